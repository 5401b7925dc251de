"""A large download killed (kill -9) half-way resumes: the next clone asks the real server only for
the rest (server-counted), and the object is whole and checked. A throttling proxy between client
and server makes "half-way" a moment the test can wait for. gc removes stale partials only."""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from selenite.cache import RESUMABLE
from selenite.keys import Key
from tests.faults.faultlib import run_then_kill_when
from tests.support.cli import selenite
from tests.support.files import md5
from tests.support.registry import Registry
from tests.support.seed import create_project, upload_version

BIG = os.urandom(4 * RESUMABLE)
KEY = Key(md5(BIG), len(BIG), ".bin")
RATE = 24 << 20  # bytes/s through the proxy: the download takes over a second


class _SlowProxy:
    """127.0.0.1 TCP proxy to ``port``; answers reach the client at RATE bytes/s at most."""

    def __init__(self, port: int) -> None:
        self.port, self._stop = port, threading.Event()
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(0.2)
        self.url = f"http://127.0.0.1:{self._listener.getsockname()[1]}"
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                client, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:  # closed
                return
            server = socket.create_connection(("127.0.0.1", self.port))
            threading.Thread(target=self._pump, args=(client, server, None), daemon=True).start()
            threading.Thread(target=self._pump, args=(server, client, RATE), daemon=True).start()

    def _pump(self, src: socket.socket, dst: socket.socket, rate: int | None) -> None:
        start, moved = time.monotonic(), 0
        try:
            while block := src.recv(64 << 10):
                dst.sendall(block)
                moved += len(block)
                if rate is not None and (ahead := moved / rate - (time.monotonic() - start)) > 0:
                    time.sleep(ahead)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                s.close()

    def close(self) -> None:
        self._stop.set()
        self._thread.join()
        self._listener.close()


@pytest.fixture
def proxy(registry: Registry) -> Iterator[_SlowProxy]:
    p = _SlowProxy(registry.port)
    try:
        yield p
    finally:
        p.close()


@pytest.mark.backends("folder")  # the storage is not the subject: ranges on both backends are tests/server's
def test_killed_large_download_resumes(registry: Registry, proxy: _SlowProxy, tmp_path: Path) -> None:
    create_project(registry, "p")
    upload_version(registry, tmp_path, "v1", {"big.bin": BIG, "small.txt": b"small\n"}, project="p", asset="a")
    partial = Path(os.environ["SELENITE_CACHE"]) / "tmp" / f"partial-{KEY.name}"
    dest = tmp_path / "clone"
    args = ["clone", "--url", proxy.url, "p/a@v1", dest]

    def half_there() -> bool:
        try:
            return partial.stat().st_size >= len(BIG) // 2
        except FileNotFoundError:
            return False

    assert run_then_kill_when(args, tmp_path, os.environ, half_there)
    have = partial.stat().st_size
    assert len(BIG) // 2 <= have < len(BIG)
    assert partial.read_bytes() == BIG[:have]  # what a kill leaves is the object's first bytes

    before = registry.stats()["file_get_bytes"]
    selenite(*args, cwd=tmp_path)
    sent = registry.stats()["file_get_bytes"] - before
    assert len(BIG) - have <= sent < len(BIG) - have + (64 << 10), (have, sent)  # the rest, and small files
    assert (dest / "big.bin").read_bytes() == BIG and not partial.exists()

    # gc: a partial untouched for two days goes, one being written (fresh) stays.
    stale, fresh = partial.with_name("partial-MD5E-s9--" + "0" * 32), partial.with_name("partial-MD5E-s9--" + "1" * 32)
    stale.write_bytes(b"123")
    fresh.write_bytes(b"123")
    old = time.time() - 2 * 24 * 3600
    os.utime(stale, (old, old))
    selenite("gc", cwd=dest)
    assert not stale.exists() and fresh.exists()
