"""The selenite CLI as a user runs it: in a subprocess, or (for many quick refusals) in this process."""

from __future__ import annotations

import contextlib
import io
import os
import subprocess
import sys
from pathlib import Path

from tests.support.serve import SELENITE


def selenite(*args: str | os.PathLike[str], cwd: Path | None = None, check: bool = True,
             env: dict[str, str] | None = None, input: str | None = None) -> subprocess.CompletedProcess[str]:
    """Run the real CLI in a subprocess (what a user types); ``check`` fails the test on a non-zero exit."""
    proc = subprocess.run(
        [*SELENITE, *map(str, args)],
        cwd=cwd, capture_output=True, text=True, env={**os.environ, **(env or {})}, input=input, timeout=600,
        check=False,
    )
    if check and proc.returncode != 0:
        raise AssertionError(f"selenite {' '.join(map(str, args))} exited {proc.returncode}\n"
                             f"stdout:\n{proc.stdout}\nstderr:\n{proc.stderr}")
    return proc


def selenite_in_process(*args: str, cwd: Path) -> tuple[int, str]:
    """The CLI's ``main`` in this process, run from ``cwd``: (exit code, stderr). For tests that run
    many commands whose subject is a refusal (no interpreter start per call); the environment is
    the test's own, as for a subprocess."""
    from selenite.cli import main  # the CLI imports its commands lazily; so do the tests that need it

    err, out = io.StringIO(), io.StringIO()
    old_argv, old_cwd = sys.argv, os.getcwd()
    sys.argv = ["selenite", *args]
    os.chdir(cwd)
    code: object = 0
    try:
        with contextlib.redirect_stderr(err), contextlib.redirect_stdout(out):
            main()
    except SystemExit as e:
        code = e.code
    finally:
        sys.argv = old_argv
        os.chdir(old_cwd)
    return (0 if code is None else code) if isinstance(code, (int, type(None))) else 2, err.getvalue()
