"""cache.durable: folder fsyncs at once, or once per folder at the end of a (possibly nested) batch."""

from __future__ import annotations

from pathlib import Path

import pytest

from selenite.cache import durable
from selenite.cache.durable import DirSync


def test_deferred_syncs_each_folder_once_at_the_outer_end(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    synced: list[Path] = []
    monkeypatch.setattr(durable, "fsync_dir", synced.append)
    a, b = tmp_path / "x" / "a", tmp_path / "x" / "b"
    dirs = DirSync()
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
