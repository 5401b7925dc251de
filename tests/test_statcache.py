"""The stat cache on real files, including a tree deeper than SQLite can open a database in."""

from __future__ import annotations

import hashlib
import os
import time
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


def _old(path: Path, data: bytes) -> Path:
    """A file written long enough ago that its signature may be recorded (not racily clean)."""
    path.write_bytes(data)
    os.utime(path, ns=(time.time_ns() - 10 * 10**9,) * 2)
    return path


def test_a_stable_file_is_hashed_once_across_commands(tmp_path: Path) -> None:
    db = tmp_path / ".git" / "selenite" / "hashes.sqlite"
    a = _old(tmp_path / "a.txt", b"alpha\n")
    sc = StatCache(db)
    sc.hash_many(tmp_path, ["a.txt"], jobs=1)
    sc.close()
    again = StatCache(db)  # the next command: the entry was kept on disk
    assert again.lookup("a.txt", a.stat()) == hashlib.md5(b"alpha\n").hexdigest()
    _old(a, b"ALPHA\n")  # a same-size edit, its mtime set back: ctime and the signature still move
    assert again.lookup("a.txt", a.stat()) is None
    assert again.hash_many(tmp_path, ["a.txt"]) == {"a.txt": (hashlib.md5(b"ALPHA\n").hexdigest(), 6)}
    again.forget(["a.txt"])
    assert again.lookup("a.txt", a.stat()) is None
    again.close()


def test_a_racily_clean_file_is_hashed_but_not_remembered(tmp_path: Path) -> None:
    (tmp_path / "fresh.txt").write_bytes(b"just written\n")
    sc = StatCache(tmp_path / "hashes.sqlite")
    assert sc.hash_many(tmp_path, ["fresh.txt"])["fresh.txt"][1] == 13
    assert sc.lookup("fresh.txt", (tmp_path / "fresh.txt").stat()) is None
    sc.close()


def test_remember_records_what_selenite_wrote_itself_unless_racily_clean(tmp_path: Path) -> None:
    old = _old(tmp_path / "old.bin", b"old")
    (tmp_path / "new.bin").write_bytes(b"new")
    sc = StatCache(tmp_path / "hashes.sqlite")
    sc.remember([("old.bin", old.stat(), "m-old"), ("new.bin", (tmp_path / "new.bin").stat(), "m-new")])
    sc.remember([])
    assert sc.lookup("old.bin", old.stat()) == "m-old"
    assert sc.lookup("new.bin", (tmp_path / "new.bin").stat()) is None
    assert sc.hash_many(tmp_path, ["old.bin"]) == {"old.bin": ("m-old", 3)}  # trusted, not re-hashed
    sc.close()
