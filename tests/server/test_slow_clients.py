"""Slow and idle clients cannot hold the server (issue 11, item 4, connection level).

Real sockets on 127.0.0.1, bounded in number and in time: connections that send nothing, a head
that trickles in, a body that stops, and more connections than the server may keep.
"""

from __future__ import annotations

import contextlib
import resource
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from srvhelpers import Server, start_server
from tests.support.serve import stop, wait_until_serving

HEAD_TIMEOUT = 2.0
IDLE_TIMEOUT = 2.0
SLOW_HEAD_TIMEOUT = 6.0  # the fd test: longer, so that counting the refused connections fits in it


@pytest.fixture(scope="module")
def quick_srv(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    args = ["--header-timeout", str(HEAD_TIMEOUT), "--idle-timeout", str(IDLE_TIMEOUT), "--keep-alive", "1"]
    server = start_server("folder", tmp_path_factory.mktemp("registry-slow"), args)
    try:
        yield server
    finally:
        server.stop()


def _open(port: int, first: bytes = b"") -> socket.socket:
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    if first:
        s.sendall(first)
    return s


def _closed_by_server(s: socket.socket) -> bool:
    """True once the server has closed its end (EOF or reset), without blocking."""
    s.setblocking(False)
    try:
        while True:
            data = s.recv(65536)
            if not data:
                return True
    except BlockingIOError:
        return False
    except ConnectionResetError:
        return True
    finally:
        s.setblocking(True)


def _wait_all_closed(socks: list[socket.socket], limit: float) -> float:
    """Seconds until every socket was closed by the server (fails after ``limit``)."""
    t0 = time.monotonic()
    open_ = list(socks)
    while open_ and time.monotonic() - t0 < limit:
        open_ = [s for s in open_ if not _closed_by_server(s)]
        time.sleep(0.1)
    assert not open_, f"{len(open_)} connection(s) still open after {limit} s"
    return time.monotonic() - t0


def _list_ok(url: str) -> float:
    t0 = time.monotonic()
    r = requests.get(f"{url}/list", timeout=5)
    assert r.status_code == 200, r.text
    return time.monotonic() - t0


def test_idle_and_half_sent_heads_are_closed_while_reads_answer(quick_srv: Server) -> None:
    srv = quick_srv
    idle = [_open(srv.port) for _ in range(10)]
    partial = [_open(srv.port, b"GET /list HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ") for _ in range(10)]
    with contextlib.ExitStack() as stack:
        for s in idle + partial:
            stack.callback(s.close)
        t0 = time.monotonic()
        while time.monotonic() - t0 < HEAD_TIMEOUT - 0.5:  # the head trickles in: a byte every 0.2 s
            for s in partial:
                s.sendall(b"a")
            assert _list_ok(srv.url) < 2  # reads answer meanwhile
            time.sleep(0.2)
        assert not any(_closed_by_server(s) for s in idle + partial)  # nothing closed too early
        waited = _wait_all_closed(idle + partial, HEAD_TIMEOUT + 3)
        assert time.monotonic() - t0 < HEAD_TIMEOUT + 3, waited
    assert _list_ok(srv.url) < 2


def test_a_body_that_stops_coming_is_closed_after_the_idle_timeout(quick_srv: Server) -> None:
    srv = quick_srv
    head = (b"POST /_selenite/objects HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            b"Content-Length: 1000\r\n\r\n")
    stalled = [_open(srv.port, head + b'{"keys": [') for _ in range(5)]
    with contextlib.ExitStack() as stack:
        for s in stalled:
            stack.callback(s.close)
        t0 = time.monotonic()
        assert _list_ok(srv.url) < 2
        _wait_all_closed(stalled, IDLE_TIMEOUT + 3)
        assert time.monotonic() - t0 >= IDLE_TIMEOUT - 0.5  # closed by the idle timer, not at once
    assert _list_ok(srv.url) < 2


def test_a_keep_alive_connection_then_a_slow_head_is_closed(quick_srv: Server) -> None:
    srv = quick_srv
    s = _open(srv.port, b"GET /list HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
    with contextlib.closing(s):
        assert s.recv(65536).startswith(b"HTTP/1.1 200")
        s.sendall(b"GET /list HTTP/1.1\r\n")  # a second request whose head never ends
        _wait_all_closed([s], HEAD_TIMEOUT + 3)


def test_an_oversized_head_is_refused(quick_srv: Server) -> None:
    """h11's 16 KiB cap on a request head: 400 and closed, not buffered without end."""
    s = _open(quick_srv.port, b"GET /list HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: " + b"a" * (32 << 10))
    with contextlib.closing(s):
        s.settimeout(5)
        assert s.recv(65536).startswith(b"HTTP/1.1 400")
        _wait_all_closed([s], 3)
    assert _list_ok(quick_srv.url) < 2


def test_more_connections_than_file_descriptors_do_not_lock_the_server_out(tmp_path: Path) -> None:
    """F5: 300 header-less connections against a server limited to 256 open files. The default
    connection cap (94 under that limit, see connections.fd_budget) answers the extra ones 503 at
    once; the held ones time out; a normal read works again right after, and the server never ran
    out of descriptors."""
    log = tmp_path / "server.log"

    def low_fd_limit() -> None:
        resource.setrlimit(resource.RLIMIT_NOFILE, (256, 256))

    with open(log, "wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "selenite", "serve", "--root", str(tmp_path / "r"), "--port", "0",
             "--header-timeout", str(SLOW_HEAD_TIMEOUT)],
            # preexec_fn: the limit must hold from the server's first instruction. It only calls
            # setrlimit (already imported), so no lock another thread held at the fork is needed.
            stdout=out, stderr=subprocess.STDOUT, preexec_fn=low_fd_limit)  # noqa: PLW1509
    socks: list[socket.socket] = []
    try:
        port = wait_until_serving(proc, log)
        url = f"http://127.0.0.1:{port}"
        fds = Path(f"/proc/{proc.pid}/fd")
        most = 0
        for _ in range(300):  # the small accept queue makes some connects wait for a SYN retry
            socks.append(_open(port))
            most = max(most, len(list(fds.iterdir())))
        t0 = time.monotonic()
        answers = {s.fileno(): b"" for s in socks}
        open_ = list(socks)
        while open_ and time.monotonic() - t0 < SLOW_HEAD_TIMEOUT + 5:
            most = max(most, len(list(fds.iterdir())))
            still = []
            for s in open_:
                s.setblocking(False)
                try:
                    data = s.recv(4096)
                    answers[s.fileno()] += data
                    if data:
                        still.append(s)
                except BlockingIOError:
                    still.append(s)
                except ConnectionResetError:
                    pass
            open_ = still
            time.sleep(0.1)
        assert not open_, f"{len(open_)} connection(s) still open"
        busy = [a for a in answers.values() if a.startswith(b"HTTP/1.1 503")]
        assert len(busy) >= 300 - 94 - 20, len(busy)  # the extras were refused (a few held ones may time out first)
        assert b"too many connections" in busy[0]
        assert most < 200, most  # the cap held: far from the 256 limit
        assert _list_ok(url) < 2
    finally:
        for s in socks:
            s.close()
        stop(proc)
    text = log.read_text()
    assert "Too many open files" not in text and "Traceback" not in text, text
