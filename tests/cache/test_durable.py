"""cache.durable: Git's batch model (one flush per batch, then the renames), and the fallback of an
fsync per folder, at once or once per folder at the end of a (possibly nested) batch."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from selenite import fsbatch
from selenite.cache import OK, Cache, durable
from selenite.cache.durable import DirSync
from tests.cache.conftest import key_of


def test_deferred_syncs_each_folder_once_at_the_outer_end(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    synced: list[Path] = []
    monkeypatch.setattr(durable, "fsync_dir", synced.append)
    a, b = tmp_path / "x" / "a", tmp_path / "x" / "b"
    dirs = DirSync(tmp_path, batch=False)
    dirs.sync(a)
    assert synced == [a]  # not deferred: at once
    synced.clear()
    with dirs.deferred():
        dirs.sync(a)
        with dirs.deferred():  # nested: the outer block syncs
            dirs.sync(b)
            dirs.sync(a)
        assert synced == []
    assert sorted(synced) == sorted([a, b, tmp_path / "x"])  # and the folder they were made in
    assert synced[-1] == tmp_path / "x"  # children before their parent


def test_batch_model_flushes_once_per_batch_and_renames_after(cache: Cache, monkeypatch: pytest.MonkeyPatch) -> None:
    """A batch of objects: no fsync of any object, one flush before the first rename, and the
    renames made durable by one flush at the end of the deferred block (no folder fsync)."""
    assert fsbatch.available()  # Linux: the batch model is what runs
    events: list[str] = []
    real_barrier, real_replace = fsbatch.barrier, os.replace

    def barrier(tmp: Path) -> None:
        events.append("flush")
        real_barrier(tmp)

    def replace(a: str | Path, b: str | Path) -> None:
        events.append("rename")
        real_replace(a, b)

    monkeypatch.setattr(fsbatch, "barrier", barrier)
    monkeypatch.setattr(durable, "fsync_dir", lambda d: events.append("dir-fsync"))
    monkeypatch.setattr(os, "fsync", lambda fd: events.append("fsync"))
    monkeypatch.setattr(os, "replace", replace)
    items = [(key_of(f"object {i}\n".encode(), ".txt"), f"object {i}\n".encode()) for i in range(5)]
    with cache.deferred_dir_sync():
        cache.put_many(items)
        assert events == ["flush", "fsync"] + ["rename"] * 5  # the flush's one fsync, of its own file
    assert events == ["flush", "fsync"] + ["rename"] * 5 + ["flush", "fsync"]
    assert all(cache.state(k) == OK and cache.signature(k) is not None for k, _ in items)  # signed in one go
    assert os.listdir(cache.tmp) == []  # the flush file is gone too


def test_without_sync_file_range_every_object_is_fsynced(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(fsbatch, "_sfr", lambda: None)
    cache = Cache(tmp_path / "cache")
    synced: list[int] = []
    monkeypatch.setattr(os, "fsync", synced.append)
    items = [(key_of(d, ".txt"), d) for d in (b"a\n", b"b\n")]
    cache.put_many(items)
    assert len(synced) == 4 and all(cache.state(k) == OK for k, _ in items)  # each object, then its folder
