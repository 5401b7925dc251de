"""The cache under threads that fail: downloads with wrong bytes next to good ones, in parallel (what
`selenite clone -j N` does when a registry corrupts some files). A failed write must not touch any
other thread's files: no EBADF, every good object stored and intact, no bad object, tmp/ empty."""

from __future__ import annotations

import hashlib
import os
import threading
from pathlib import Path

from selenite.cache import OK, Cache
from selenite.errors import ChecksumMismatch
from selenite.keys import Key
from tests.faults.faultlib import bad_objects


def test_parallel_writes_with_md5_mismatches(tmp_path: Path) -> None:
    cache = Cache(tmp_path / "cache")
    errors: list[BaseException] = []
    good: list[Key] = []
    lock = threading.Lock()

    def worker(w: int) -> None:
        for i in range(150):
            data = f"{w}-{i}-".encode() * (1 + i % 50)
            key = Key(hashlib.md5(data).hexdigest(), len(data), ".bin")
            try:
                if i % 2:  # wrong bytes for this key: refused
                    cache.put_stream(key, iter([data[:-1], b"X"]))
                    errors.append(AssertionError(f"wrong bytes stored as {key.name}"))
                else:
                    cache.put_stream(key, iter([data[: len(data) // 2], data[len(data) // 2:]]))
                    with lock:
                        good.append(key)
            except ChecksumMismatch:
                pass
            except BaseException as e:  # e.g. OSError EBADF: another thread closed our file
                errors.append(e)

    threads = [threading.Thread(target=worker, args=(w,)) for w in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert all(cache.state(k) == OK for k in good) and len(good) == 6 * 75
    assert bad_objects(cache.root) == []
    assert os.listdir(cache.tmp) == []
