"""Starting and stopping a `selenite serve` process: the one place that waits for it to answer.

A server is started on port 0 unless told otherwise: it binds a free port itself and names it in
the line it logs once it serves, so no other process can take the port in between (several test
runs share the machine) and the server that answers is known to be this one.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

SELENITE = [sys.executable, "-m", "selenite"]

# What `selenite serve` logs once it accepts connections (commands/serve.py).
_SERVING = re.compile(rb"selenite registry on http://127\.0\.0\.1:(\d+) ")


def wait_until_serving(proc: subprocess.Popen[bytes], log: Path, since: int = 0, timeout: float = 30) -> int:
    """The port of the server ``proc`` once it serves (its announcement in ``log`` after byte
    ``since``); raise with the end of the log if it exits first or stays silent."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        exited = proc.poll() is not None
        with open(log, "rb") as f:
            f.seek(since)
            found = _SERVING.search(f.read())
        if found:
            return int(found.group(1))
        if exited:
            tail = log.read_text(errors="replace")[-2000:]
            raise RuntimeError(f"selenite serve exited {proc.returncode}; its log ({log}) ends:\n{tail}")
        time.sleep(0.05)
    stop(proc)
    raise RuntimeError(f"selenite serve did not start serving within {timeout:.0f} s; see {log}")


def start_serve(args: Sequence[str], *, log: Path, port: int = 0, env: Mapping[str, str] | None = None,
                timeout: float = 30) -> tuple[subprocess.Popen[bytes], int]:
    """``selenite serve ARGS --port PORT`` on 127.0.0.1 (port 0: one it picks), its output appended
    to ``log``; returns the process and its port once it serves. ``env`` is added to this
    process's environment."""
    since = log.stat().st_size if log.exists() else 0
    with open(log, "ab") as out:  # the child keeps its own copy of the descriptor
        proc = subprocess.Popen([*SELENITE, "serve", *args, "--port", str(port)], stdout=out,
                                stderr=subprocess.STDOUT, env={**os.environ, **(env or {})})
    return proc, wait_until_serving(proc, log, since, timeout)


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
