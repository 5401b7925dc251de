"""Turn every failure into one line on stderr and an exit code (never a traceback).

A bug's traceback goes to a crash log readable by the user only (0600 in a 0700 folder), with every
secret the process knows of (``--token`` values, secret-looking environment variables) replaced by
``<redacted>``, wherever it appears: argv, messages, the traceback.
"""

from __future__ import annotations

import contextlib
import datetime
import os
import platform
import re
import sys
import traceback
from collections.abc import Iterator
from pathlib import Path

import platformdirs

from selenite import __version__, output
from selenite.errors import FatalError

REDACTED = "<redacted>"
_SECRET_OPTIONS = ("--token",)
_SECRET_NAME = re.compile(r"TOKEN|SECRET|PASSW|CREDENTIAL|(^|_)KEY($|_)|AUTH", re.IGNORECASE)
# What a secret looks like on its own: our tokens, GitHub's, AWS access keys.
# A password inside a URL: scheme://user:PASSWORD@host.
_URL_PASSWORD = re.compile(r"(\w+://[^/\s:@]*:)[^@\s/]+@")
_SECRET_SHAPE = re.compile(r"\b(sel_[A-Za-z0-9_-]{8,}|gh[pousr]_[A-Za-z0-9]{8,}|github_pat_\w{8,}|AKIA[0-9A-Z]{12,})")


def secrets_of(argv: list[str], environ: dict[str, str] | os._Environ[str]) -> set[str]:
    """The values in ``argv`` and ``environ`` that must never be written down."""
    found: set[str] = set()
    for i, arg in enumerate(argv):
        for opt in _SECRET_OPTIONS:
            if arg == opt and i + 1 < len(argv):
                found.add(argv[i + 1])
            elif arg.startswith(opt + "="):
                found.add(arg[len(opt) + 1 :])
        name, eq, value = arg.partition("=")
        if eq and _SECRET_NAME.search(name.lstrip("-")):
            found.add(value)
    found.update(v for k, v in environ.items() if _SECRET_NAME.search(k))
    return {s for s in found if len(s) >= 4}  # shorter values would blank out ordinary text


def redact(text: str, secrets: set[str]) -> str:
    for s in sorted(secrets, key=len, reverse=True):
        text = text.replace(s, REDACTED)
    return _URL_PASSWORD.sub(rf"\1{REDACTED}@", _SECRET_SHAPE.sub(REDACTED, text))


def _crash_log(exc: BaseException) -> Path | None:
    try:
        log_dir = Path(platformdirs.user_state_dir("selenite"))
        log_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        os.chmod(log_dir, 0o700)  # also a folder made by an older version (0755)
        path = log_dir / "crash.log"
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_NOFOLLOW, 0o600)
        with os.fdopen(fd, "a") as f:
            os.fchmod(fd, 0o600)  # also a log made by an older version (0644)
            entry = (f"--- {datetime.datetime.now(datetime.UTC).isoformat()} selenite {__version__} "
                     f"python {platform.python_version()} argv {sys.argv!r}\n"
                     + "".join(traceback.format_exception(exc)))
            f.write(redact(entry, secrets_of(sys.argv, os.environ)))
        return path
    except OSError:
        return None


@contextlib.contextmanager
def error_handler() -> Iterator[None]:
    try:
        yield
    except FatalError as e:
        output.error(f"selenite: error: {e}")
        raise SystemExit(1) from None
    except KeyboardInterrupt:
        output.error("selenite: interrupted")
        raise SystemExit(130) from None
    except BrokenPipeError:
        raise SystemExit(1) from None
    except Exception as e:  # a bug: keep the traceback in a log, show one line
        path = _crash_log(e)
        where = f" (details in {path})" if path else ""
        message = redact(f"selenite: unexpected {type(e).__name__}: {e}", secrets_of(sys.argv, os.environ))
        output.error(message.splitlines()[0] + where)  # one line, even for a multi-line message
        raise SystemExit(3) from None
