"""Starting and stopping a `selenite serve` process: the one place that waits for it to answer."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

import requests

SELENITE = [sys.executable, "-m", "selenite"]


def wait_until_answers(url: str, proc: subprocess.Popen[bytes], log: Path, timeout: float = 30) -> None:
    """Return once ``GET url/list`` answers; raise with the end of ``log`` if the process exits first."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            tail = log.read_text(errors="replace")[-2000:] if log.exists() else ""
            raise RuntimeError(f"selenite serve exited {proc.returncode}; its log ({log}) ends:\n{tail}")
        try:
            requests.get(f"{url}/list", timeout=1)
            return
        except requests.ConnectionError:
            time.sleep(0.05)
    stop(proc)
    raise RuntimeError(f"selenite serve did not answer within {timeout:.0f} s; see {log}")


def start_serve(args: Sequence[str], *, port: int, log: Path, env: Mapping[str, str] | None = None,
                timeout: float = 30) -> subprocess.Popen[bytes]:
    """``selenite serve ARGS --port PORT`` on 127.0.0.1, its output appended to ``log``, returned
    once it answers. ``env`` is added to this process's environment."""
    with open(log, "ab") as out:  # the child keeps its own copy of the descriptor
        proc = subprocess.Popen([*SELENITE, "serve", *args, "--port", str(port)], stdout=out,
                                stderr=subprocess.STDOUT, env={**os.environ, **(env or {})})
    wait_until_answers(f"http://127.0.0.1:{port}", proc, log, timeout)
    return proc


def stop(proc: subprocess.Popen[bytes], timeout: float = 10) -> None:
    """SIGTERM, so the server shuts down cleanly (and coverage writes its data); SIGKILL if it hangs."""
    if proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
