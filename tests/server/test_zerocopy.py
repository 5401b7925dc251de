"""Objects bigger than a chunk leave a folder-backed server by sendfile (server/zerocopy.py): the
same bytes and headers as a streamed answer, whole or a range; the connection stays usable for the
next request (h11 counted the body); a client that leaves midway does not upset the server."""

from __future__ import annotations

import http.client
import os
import socket
from urllib.parse import urlsplit

from srvhelpers import Server, q, upload

BIG = os.urandom(5 * (1 << 20) + 123)  # several chunks: the sendfile path


def test_sendfile_answers_on_one_keep_alive_connection(srv: Server, project: str) -> None:
    upload(srv, "alice", project, "z", "v1", {"big.bin": BIG})
    path = f"/file/{q(project + '/z/v1/big.bin')}"
    host = urlsplit(srv.url)
    conn = http.client.HTTPConnection(host.hostname or "127.0.0.1", host.port, timeout=30)
    try:
        before = srv.stats()["file_get_bytes"]
        conn.request("GET", path)
        r = conn.getresponse()
        assert (r.status, r.getheader("Content-Length")) == (200, str(len(BIG)))
        assert r.read() == BIG
        sock = conn.sock
        first, last = 1_000_000, 4_500_000
        conn.request("GET", path, headers={"Range": f"bytes={first}-{last}"})
        r = conn.getresponse()
        assert r.status == 206 and r.getheader("Content-Range") == f"bytes {first}-{last}/{len(BIG)}"
        assert r.read() == BIG[first : last + 1]
        assert conn.sock is sock  # the same connection answered both: the first body ended where h11 said
        assert srv.stats()["file_get_bytes"] - before == len(BIG) + last - first + 1
    finally:
        conn.close()


def test_a_client_that_leaves_midway(srv: Server, project: str) -> None:
    upload(srv, "alice", project, "z", "v1", {"big.bin": BIG})
    path = f"/file/{q(project + '/z/v1/big.bin')}"
    host = urlsplit(srv.url)
    for _ in range(3):
        s = socket.create_connection((host.hostname or "127.0.0.1", host.port or 80), timeout=10)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        s.sendall(f"GET {path} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
        assert s.recv(4096).startswith(b"HTTP/1.1 200")
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")  # reset on close
        s.close()
    r = srv.req("GET", path)
    assert r.status_code == 200 and r.content == BIG
