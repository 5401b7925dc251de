"""The stat cache on real files, including a tree deeper than SQLite can open a database in."""

from __future__ import annotations

import hashlib
from pathlib import Path

from selenite.statcache import StatCache


def _deep(base: Path, depth_bytes: int) -> Path:
    p = base
    while len(str(p)) < depth_bytes:
        p = p / ("d" * 60)
    p.mkdir(parents=True)
    return p


def test_hashes_are_right_and_remembered(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_bytes(b"alpha\n")
    sc = StatCache(tmp_path / ".git" / "selenite" / "hashes.sqlite")
    assert sc.hash_many(tmp_path, ["a.txt"]) == {"a.txt": (hashlib.md5(b"alpha\n").hexdigest(), 6)}
    sc.close()


def test_a_tree_too_deep_for_sqlite_still_hashes(tmp_path: Path) -> None:
    root = _deep(tmp_path, 560)
    (root / "a.txt").write_bytes(b"alpha\n")
    sc = StatCache(root / ".git" / "selenite" / "hashes.sqlite")  # SQLite alone: "unable to open database file"
    assert sc.hash_many(root, ["a.txt"])["a.txt"][0] == hashlib.md5(b"alpha\n").hexdigest()
    sc.forget(["a.txt"])
    sc.close()
