"""Turn every failure into one line on stderr and an exit code (never a traceback)."""

from __future__ import annotations

import contextlib
import datetime
import platform
import sys
import traceback
from collections.abc import Iterator
from pathlib import Path

import platformdirs

from selenite import __version__, output
from selenite.errors import FatalError


def _crash_log(exc: BaseException) -> Path | None:
    try:
        log_dir = Path(platformdirs.user_state_dir("selenite"))
        log_dir.mkdir(parents=True, exist_ok=True)
        path = log_dir / "crash.log"
        with path.open("a") as f:
            f.write(f"--- {datetime.datetime.now(datetime.UTC).isoformat()} selenite {__version__} ")
            f.write(f"python {platform.python_version()} argv {sys.argv!r}\n")
            f.write("".join(traceback.format_exception(exc)))
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
        output.error(f"selenite: unexpected {type(e).__name__}: {e}{where}")
        raise SystemExit(3) from None
