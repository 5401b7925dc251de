"""git as the tests run it: in a subprocess, in the test's isolated environment."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path


def git(*args: str, cwd: Path, check: bool = True) -> str:
    """git's stdout; ``check`` raises on a non-zero exit."""
    return subprocess.run(["git", *args], cwd=cwd, check=check, capture_output=True, text=True).stdout


def run_git(cwd: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """git in ``cwd``, its exit code left to the caller (hook tests look at refusals)."""
    return subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True,
                          env={**os.environ, **(env or {})}, timeout=300, check=False)


def ok(proc: subprocess.CompletedProcess[str]) -> subprocess.CompletedProcess[str]:
    """``proc``, after asserting it exited 0 (its output in the failure message)."""
    assert proc.returncode == 0, f"{proc.args} exited {proc.returncode}\n{proc.stdout}\n{proc.stderr}"
    return proc
