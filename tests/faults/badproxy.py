"""A misbehaving registry: a small HTTP proxy on a real socket between the CLI and `selenite serve`.

It forwards every request to the real server and, for ``GET /file/<key>`` of version files (or of
every key, with ``target="any"``), does one of:

- ``corrupt``: flips one byte of the body (same length, wrong md5);
- ``truncate``: announces the full ``Content-Length``, sends half the body, closes the socket;
- ``drop``: reads the request and closes the connection without answering;
- ``stall``: sends the headers and a few bytes, then nothing (the client's read timeout must fire);

for the first ``times`` such requests (``None``: all of them), then behaves. That is a real fault
on a real socket; nothing in the client is patched.
"""

from __future__ import annotations

import contextlib
import http.client
import os
import random
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from tests.faults.faultlib import bad_objects, one_line_error
from tests.support.cli import selenite
from tests.support.files import tree_files
from tests.support.registry import Registry, start_registry
from tests.support.seed import create_project, upload_version

MODES = ("corrupt", "truncate", "drop", "stall")
HOP = {
    "connection",
    "keep-alive",
    "transfer-encoding",
    "te",
    "trailer",
    "upgrade",
    "proxy-authorization",
    "proxy-authenticate",
}


class BadProxy:
    def __init__(self, upstream: str, mode: str, times: int | None = None, target: str = "data",
                 stall_seconds: float = 30.0) -> None:
        assert mode in MODES
        u = urlsplit(upstream)
        self.up_host, self.up_port = u.hostname or "127.0.0.1", u.port or 80
        self.mode, self.times, self.target, self.stall_seconds = mode, times, target, stall_seconds
        self.faults = 0
        self.hits: list[str] = []
        self._lock = threading.Lock()
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def _forward(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else None
                headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP and k.lower() != "host"}
                fault = proxy._take_fault(self.command, self.path)
                if fault == "drop":
                    self.close_connection = True
                    with contextlib.suppress(OSError):
                        self.connection.shutdown(socket.SHUT_RDWR)
                    return
                up = http.client.HTTPConnection(proxy.up_host, proxy.up_port, timeout=120)
                try:
                    up.request(self.command, self.path, body=body, headers=headers)
                    resp = up.getresponse()
                    data = resp.read()
                    out_headers = [
                        (k, v) for k, v in resp.getheaders() if k.lower() not in HOP and k.lower() != "content-length"
                    ]
                    status = resp.status
                finally:
                    up.close()
                if fault == "corrupt" and data:
                    i = len(data) // 2
                    data = data[:i] + bytes([data[i] ^ 0xFF]) + data[i + 1:]
                self.send_response(status)
                for k, v in out_headers:
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                if self.command == "HEAD":
                    return
                if fault == "truncate" and data:
                    self.wfile.write(data[: len(data) // 2])
                    self.wfile.flush()
                    self.close_connection = True
                    with contextlib.suppress(OSError):
                        self.connection.shutdown(socket.SHUT_RDWR)
                    return
                if fault == "stall" and data:
                    self.wfile.write(data[:16])
                    self.wfile.flush()
                    time.sleep(proxy.stall_seconds)
                    self.close_connection = True
                    return
                self.wfile.write(data)

            do_GET = do_HEAD = do_POST = do_PUT = do_DELETE = _forward

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self._thread = threading.Thread(target=self.server.serve_forever, name="badproxy", daemon=True)

    def _take_fault(self, method: str, path: str) -> str | None:
        if method != "GET" or not path.startswith("/file/"):
            return None
        key = unquote(path[len("/file/"):].split("?", 1)[0])
        if self.target == "data" and (key.count("/") < 3 or key.rsplit("/", 1)[-1].startswith("..")):
            return None
        with self._lock:
            if self.times is not None and self.faults >= self.times:
                return None
            self.faults += 1
            self.hits.append(key)
        return self.mode

    def __enter__(self) -> BadProxy:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


# --- the checks -------------------------------------------------------------------------------------

FILES_PROJECT = "flaky"


def seed_files(reg: Registry, tmp: Path) -> dict[str, bytes]:
    rnd = random.Random(9)
    files = {"a.txt": b"alpha\n" * 50, "b/c.bin": rnd.randbytes(300_000), "d.csv": b"x,y\n" * 2000}
    create_project(reg, FILES_PROJECT)
    upload_version(reg, tmp, "v1", files, project=FILES_PROJECT, asset="data")
    return files


def clone_through(reg: Registry, tmp: Path, name: str, mode: str, times: int | None, expected: dict[str, bytes],
                  target: str = "data") -> tuple[str, list[str]]:
    """Clone through a misbehaving proxy into a fresh cache: ("ok" | "failed: <stderr>", problems).
    A clone that succeeds must hold the right files and pass fsck; one that fails must say so in
    one line (exit 1) and leave no DIR; either way no bad object may be in the cache."""
    cache = tmp / f"cache-{name}"
    env = {**os.environ, "SELENITE_CACHE": str(cache)}
    dest = tmp / f"clone-{name}"
    with BadProxy(reg.url, mode, times, target, stall_seconds=5.0) as proxy:
        res = selenite("clone", f"{FILES_PROJECT}/data@v1", dest, "--url", proxy.url, "-j", "2",
                       cwd=tmp, env=env, check=False)
    problems = bad_objects(cache)
    if not proxy.hits:
        problems.append(f"{name}: the proxy never got to misbehave")
    if res.returncode == 0:
        if tree_files(dest) != expected:
            problems.append(f"{name}: clone succeeded with the wrong files")
        fsck = selenite("fsck", cwd=dest, env=env, check=False)
        if fsck.returncode != 0:
            problems.append(f"{name}: fsck after the clone: {fsck.stdout.strip()[-200:]}")
        return "ok", problems
    err = one_line_error(res)
    if err:
        problems.append(f"{name}: failure not explained in one line: {err}")
    if dest.exists():
        problems.append(f"{name}: a failed clone left {dest}")
    return "failed: " + res.stderr.strip()[:200], problems


def expected_outcome(mode: str, times: int | None) -> str:
    """A fault that happens once must be retried away; one that never stops must fail cleanly."""
    return "ok" if times is not None else "failed"


def run_bench(base: Path, rounds: int = 3) -> dict[str, Any]:
    """Every mode, once-only (the client must recover) and always (it must fail cleanly)."""
    work = base / "badserver"
    work.mkdir()
    reg = start_registry(work / "registry")
    problems: list[str] = []
    outcomes: dict[str, str] = {}
    try:
        expected = seed_files(reg, work)
        for r in range(rounds):
            for mode in MODES:
                for times in (1, 2, None):
                    if mode == "stall" and (times != 1 or r > 0):
                        continue  # each stall costs seconds
                    name = f"{mode}-{times or 'all'}-{r}"
                    outcome, p = clone_through(reg, work, name, mode, times, expected)
                    if not outcome.startswith(expected_outcome(mode, times)):
                        p.append(f"{name}: expected {expected_outcome(mode, times)}, got {outcome}")
                    outcomes[name] = outcome
                    print(f"   {name}: {outcome[:110]} {p if p else ''}", flush=True)
                    problems += p
            name = f"truncated-manifest-{r}"
            outcome, p = clone_through(reg, work, name, "truncate", None, expected, target="any")
            if not outcome.startswith("failed"):
                p.append(f"{name}: a clone through a registry that truncates everything succeeded")
            outcomes[name] = outcome
            print(f"   {name}: {outcome[:110]} {p if p else ''}", flush=True)
            problems += p
    finally:
        reg.stop()
    return {"outcomes": outcomes, "problems": problems}
