"""Request bodies are bounded, and read only after the token is checked (issue 11, item 2).

Raw sockets on 127.0.0.1: a body is sent lazily, chunk by chunk, while the server's own RSS is read
from /proc; every exchange is bounded in bytes and in time.
"""

from __future__ import annotations

import json
import re
import selectors
import socket
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests
from srvhelpers import Server, start_server

MAX_JSON = 64 * 1024  # the test server's --max-json-bytes


@pytest.fixture(scope="module")
def small_srv(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    server = start_server("folder", tmp_path_factory.mktemp("registry-bodies"), ["--max-json-bytes", str(MAX_JSON)])
    try:
        body = {"permissions": {"owners": ["alice"], "uploaders": [{"id": "bob", "trusted": True}]}}
        assert server.req("POST", "/create/bp", user="admin", json=body).status_code == 200
        yield server
    finally:
        server.stop()


def _rss_kib(pid: int, field: str = "VmRSS") -> int:
    text = Path(f"/proc/{pid}/status").read_text()
    m = re.search(rf"^{field}:\s+(\d+) kB", text, re.M)
    assert m, text
    return int(m.group(1))


class Exchange:
    """One request over a raw socket: headers now, then body chunks as long as the server reads."""

    def __init__(self, port: int, method: str, path: str, headers: dict[str, str]) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 1 << 16)
        head = f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers.items())
        self.sock.sendall(head.encode() + b"\r\n")
        self.answer = b""
        self.sent = 0
        self.closed = False

    def pump(self, body: Iterator[bytes], deadline: float, on_tick: object = None) -> None:
        """Send ``body`` while the server takes it; stop at its answer, its close, or the deadline."""
        self.sock.setblocking(False)
        sel = selectors.DefaultSelector()
        sel.register(self.sock, selectors.EVENT_READ | selectors.EVENT_WRITE)
        pending = b""
        try:
            while time.monotonic() < deadline and not self.closed:
                for _, events in sel.select(timeout=0.5):
                    if events & selectors.EVENT_READ:
                        self._read()
                    if events & selectors.EVENT_WRITE and not self.closed:
                        if not pending:
                            pending = next(body, b"")
                            if not pending:  # the whole body went out: only the answer is left
                                sel.modify(self.sock, selectors.EVENT_READ)
                                continue
                        try:
                            n = self.sock.send(pending)
                        except (BrokenPipeError, ConnectionResetError):
                            self._read_rest()  # the answer may be waiting before the reset
                            self.closed = True
                            break
                        self.sent += n
                        pending = pending[n:]
                if callable(on_tick):
                    on_tick()
                if self.complete():
                    break
        finally:
            sel.close()

    def _read(self) -> None:
        try:
            data = self.sock.recv(65536)
        except BlockingIOError:
            return
        except ConnectionResetError:
            self.closed = True
            return
        if not data:
            self.closed = True
        self.answer += data

    def _read_rest(self) -> None:
        self.sock.setblocking(True)
        self.sock.settimeout(2)
        try:
            while data := self.sock.recv(65536):
                self.answer += data
        except OSError:
            pass

    def complete(self) -> bool:
        head, sep, rest = self.answer.partition(b"\r\n\r\n")
        m = re.search(rb"content-length: (\d+)", head, re.I)
        return bool(sep and m and len(rest) >= int(m.group(1)))

    def status(self) -> int:
        return int(self.answer.split(b" ", 2)[1]) if self.answer.startswith(b"HTTP/1.1 ") else 0

    def close(self) -> None:
        self.sock.close()


def _chunked(total: int, piece: bytes) -> Iterator[bytes]:
    """``total`` bytes of ``piece`` repeated, in chunked transfer encoding, generated lazily."""
    sent = 0
    while sent < total:
        n = min(len(piece), total - sent)
        yield b"%x\r\n" % n + piece[:n] + b"\r\n"
        sent += n
    yield b"0\r\n\r\n"


def test_anonymous_start_is_refused_before_its_body_is_read(small_srv: Server) -> None:
    """401 arrives while the (chunked) manifest has not even started, and the connection ends."""
    ex = Exchange(small_srv.port, "POST", "/upload/start/bp/a/v1",
                  {"Transfer-Encoding": "chunked", "Content-Type": "application/json"})
    try:
        ex.pump(iter([]), time.monotonic() + 10)  # send no body at all
        assert ex.status() == 401, ex.answer
        assert b"connection: close" in ex.answer.lower()
    finally:
        ex.close()


def test_json_bodies_over_the_limit_are_413(small_srv: Server) -> None:
    srv = small_srv
    big = {"files": [{"type": "simple", "path": f"f{i:06d}", "md5sum": "0" * 32, "size": 1} for i in range(1000)]}
    assert len(json.dumps(big)) > MAX_JSON
    r = srv.req("POST", "/upload/start/bp/a/v1", user="alice", json=big)
    assert (r.status_code, r.json()["reason"]) == (413, f"request body is larger than the limit of {MAX_JSON} bytes")
    # Announced by Content-Length, nothing sent: refused at once, even before the token is looked at.
    ex = Exchange(srv.port, "PUT", "/permissions/bp", {"Content-Length": str(1 << 30)})
    try:
        ex.pump(iter([]), time.monotonic() + 10)
        assert ex.status() == 413 and b"connection: close" in ex.answer.lower()
    finally:
        ex.close()
    # Chunked: read up to the limit, then 413, without waiting for the rest.
    ex = Exchange(srv.port, "POST", "/upload/start/bp/a/v1",
                  {"Transfer-Encoding": "chunked", "Authorization": f"Bearer {srv.tokens['alice']}"})
    try:
        ex.pump(_chunked(64 << 20, b" " * 8192), time.monotonic() + 30)
        assert ex.status() == 413, ex.answer
        assert ex.sent < 16 << 20  # the server stopped reading soon after the limit
    finally:
        ex.close()
    # A body just under the limit still works, and the project is unlocked again.
    ok = srv.req("POST", "/upload/start/bp/a/v1", user="alice", json={"files": big["files"][:10]})
    assert ok.status_code == 200, ok.text
    assert srv.req("POST", ok.json()["abort_url"], token=ok.json()["session_token"]).status_code == 200


def test_batch_route_caps_keys_and_body(small_srv: Server) -> None:
    srv = small_srv
    r = srv.req("POST", "/_selenite/objects", json={"keys": ["bp/..permissions"] * 1001})
    assert r.status_code == 400 and "at most 1000 keys" in r.json()["reason"]
    # Public route: its body is streamed (no Content-Length) and cut off at its cap, here this
    # server's --max-json-bytes (below the route's own 1 MiB).
    chunks = iter([b'{"keys": [', *[b'"x",' * 1000] * 20, b'"x"]}'])
    r = srv.req("POST", "/_selenite/objects", data=chunks)
    assert (r.status_code, r.json()["reason"]) == (413, f"request body is larger than the limit of {MAX_JSON} bytes")
    r = srv.req("POST", "/_selenite/objects", json={"keys": ["bp/..permissions"]})
    assert r.status_code == 200 and r.content.startswith(b'{"key": "bp/..permissions"')


@pytest.mark.parametrize("route", ["/_selenite/objects", "/upload/start/bp/a/v1"])
def test_deeply_nested_json_is_400(small_srv: Server, route: str) -> None:
    # Padded to one array per 32 bytes, under upload start's density check (uploads.py).
    r = small_srv.req("POST", route, user="alice", data=(b"[" + b" " * 31) * 1_500 + b"]" * 1_500)
    assert (r.status_code, r.json()["reason"]) == (400, "failed to parse JSON body; it is nested too deeply")


def _post_routes(srv: Server) -> list[str]:
    spec = requests.get(f"{srv.url}/openapi.json", timeout=30).json()
    paths = [p for p, ops in spec["paths"].items() if "post" in ops]
    return [re.sub(r"\{[^}]+\}", "x", p).replace("{slug:path}", "x") for p in paths]


def test_a_1_gib_anonymous_body_to_every_post_route_leaves_the_server_small(tmp_path: Path) -> None:
    """Issue 11 acceptance, on a server with the default limits: RSS < 200 MB while anonymous
    1 GiB bodies stream in (announced by Content-Length, and chunked with no announced length)."""
    srv = start_server("folder", tmp_path / "registry")
    try:
        _send_1_gib_everywhere(srv)
    finally:
        srv.stop()


def _send_1_gib_everywhere(srv: Server) -> None:
    assert srv.proc is not None
    pid = srv.proc.pid
    routes = _post_routes(srv)
    assert "/upload/start/x/x/x" in routes and "/_selenite/objects" in routes and len(routes) >= 9
    peak = 0

    def sample() -> None:
        nonlocal peak
        peak = max(peak, _rss_kib(pid))

    gib = 1 << 30
    piece = b'{"keys": [' + b" " * (1 << 20)  # valid JSON up to the cut: the server must count bytes
    outcomes = {}
    for route in routes:
        for framing in ("content-length", "chunked"):
            headers = {"Content-Length": str(gib)} if framing == "content-length" else {"Transfer-Encoding": "chunked"}
            ex = Exchange(srv.port, "POST", route, {**headers, "Content-Type": "application/json"})
            body = iter(lambda: piece, b"") if framing == "content-length" else _chunked(gib, piece)
            try:
                ex.pump(body, time.monotonic() + 60, on_tick=sample)
                outcomes[(route, framing)] = (ex.status(), ex.sent)
            finally:
                ex.close()
    sample()
    assert peak < 200 * 1024, f"server RSS reached {peak} kB"
    assert _rss_kib(pid, "VmHWM") < 200 * 1024
    for (route, framing), (status, sent) in outcomes.items():
        assert 400 <= status < 500, (route, framing, status)
        assert sent < 64 << 20, (route, framing, sent)  # the server stopped taking the body early
    # ... and it still answers.
    assert srv.req("GET", "/list").status_code == 200


# --- parse amplification (upload start) ---------------------------------------------------------

def _list_body(item: bytes, total: int = 16 << 20) -> bytes:
    """``{"files":[item,item,...]}`` just under ``total`` bytes (the default --max-json-bytes)."""
    head, tail = b'{"files":[', b"]}"
    n = (total - len(head) - len(tail)) // (len(item) + 1)
    return head + b",".join([item] * n) + tail


def test_a_16_mib_manifest_from_a_user_without_rights_is_refused_unread(tmp_path: Path) -> None:
    """A valid token without upload rights gets its 403 before a byte of the body is read: a
    16 MiB list of ``{}`` (~480 MB once parsed) leaves the server under 200 MB."""
    srv = start_server("folder", tmp_path / "registry")
    try:
        body = {"permissions": {"owners": ["alice"], "uploaders": [{"id": "carol", "asset": "b"}]}}
        assert srv.req("POST", "/create/pj", user="admin", json=body).status_code == 200
        assert srv.proc is not None
        data = _list_body(b"{}")
        for user in ("eve", "carol"):  # no entry at all; an uploader of another asset only
            ex = Exchange(srv.port, "POST", "/upload/start/pj/a/v1", {
                "Content-Length": str(len(data)), "Content-Type": "application/json",
                "Authorization": f"Bearer {srv.tokens[user]}"})
            try:
                ex.pump(iter([data[i:i + (1 << 20)] for i in range(0, len(data), 1 << 20)]), time.monotonic() + 30)
                assert ex.status() == 403, ex.answer[:300]
                assert b"user is not authorized to upload" in ex.answer
            finally:
                ex.close()
        assert _rss_kib(srv.proc.pid, "VmHWM") < 200 * 1024
    finally:
        srv.stop()


def test_16_mib_manifests_from_an_owner_stay_bounded_in_parallel(tmp_path: Path) -> None:
    """For a caller with rights: a body denser in objects than an honest manifest is refused
    before parsing (400), and other big bodies are parsed and handled one at a time (LARGE_PARSES).
    Four parallel 16 MiB bodies of each kind keep the server under 600 MB (measured: ~440 MB)."""
    srv = start_server("folder", tmp_path / "registry")
    try:
        body = {"permissions": {"owners": ["alice"], "uploaders": []}}
        for i in range(4):  # one project each: a locked project is refused before its body is read
            assert srv.req("POST", f"/create/pj{i}", user="admin", json=body).status_code == 200
        assert srv.proc is not None
        cases = {
            _list_body(b"{}"): "request body holds more JSON objects and arrays than one per 32 bytes",
            _list_body(b'"ab"'): "'files' should be an array of objects",  # ~16x once parsed
        }
        for data, reason in cases.items():
            with ThreadPoolExecutor(4) as pool:
                answers = list(pool.map(
                    lambda i, body=data: srv.req("POST", f"/upload/start/pj{i}/a/v1", user="alice", data=body), range(4)
                ))
            assert [(r.status_code, r.json()["reason"]) for r in answers] == [(400, reason)] * 4
        peak = _rss_kib(srv.proc.pid, "VmHWM")
        assert peak < 600 * 1024, f"server peak RSS {peak} kB"
        # An honest manifest still starts (dense link entries with one-letter names included).
        files = [{"type": "simple", "path": "a", "md5sum": "0" * 32, "size": 0}]
        r = srv.req("POST", "/upload/start/pj0/a/v9", user="alice", json={"files": files})
        assert r.status_code == 200, r.text
    finally:
        srv.stop()
