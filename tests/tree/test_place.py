"""Placing a hardlink/copy tree's files: hard links, copies, and the fallbacks between them."""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path

import pytest

from selenite.cache import Cache
from selenite.statcache import StatCache
from selenite.tree import place
from tests.tree.conftest import key_of


@pytest.fixture
def cache(tmp_path: Path) -> Cache:
    return Cache(tmp_path / "cache")


def test_hardlink_is_the_object_and_copy_is_not(tmp_path: Path, cache: Cache) -> None:
    k = key_of(b"data")
    cache.put_stream(k, [b"data"])
    root = tmp_path / "t"
    root.mkdir()
    assert place.place(root, cache, "hardlink", "d/h", k)
    assert place.place(root, cache, "copy", "c", k)
    assert place.shares_object(root, "d/h", cache, k) and not place.shares_object(root, "c", cache, k)
    assert (root / "c").read_bytes() == b"data" and os.stat(root / "c").st_mode & stat.S_IWUSR
    assert cache.verify(k)  # the link did not disturb the object (its signature was renewed)
    assert not place.place(root, cache, "copy", "absent", key_of(b"not cached"))
    assert not os.path.lexists(root / "absent")


def test_a_refused_hard_link_becomes_a_copy(tmp_path: Path, cache: Cache, monkeypatch: pytest.MonkeyPatch) -> None:
    k = key_of(b"data")
    cache.put_stream(k, [b"data"])
    root = tmp_path / "t"
    root.mkdir()

    def too_many_links(*_args: object) -> None:
        raise OSError(errno.EMLINK, "Too many links")

    monkeypatch.setattr(place.os, "link", too_many_links)
    assert place.place(root, cache, "hardlink", "f", k)
    assert (root / "f").read_bytes() == b"data" and not place.shares_object(root, "f", cache, k)


def test_place_all_skips_what_is_not_cached(tmp_path: Path, cache: Cache) -> None:
    here, gone = key_of(b"here"), key_of(b"gone")
    cache.put_stream(here, [b"here"])
    root = tmp_path / "t"
    root.mkdir()
    assert place.place_all(root, cache, "copy", {"a": here, "b": gone, "c/d": here}) == 2
    placed = sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file() and ".git" not in p.parts)
    assert placed == ["a", "c/d"]


def test_after_push_in_copy_mode_keeps_the_users_file(tmp_path: Path, cache: Cache) -> None:
    root = tmp_path / "t"
    root.mkdir()
    (root / "f").write_bytes(b"mine")
    k = key_of(b"mine")
    cache.put_file(root / "f", filename="f", expected=k)
    ino = os.stat(root / "f").st_ino
    hashes = StatCache(root / ".hashes.sqlite")
    try:
        place.after_push(root, cache, "copy", "f", k, hashes)
        assert os.stat(root / "f").st_ino == ino
        place.after_push(root, cache, "hardlink", "f", k, hashes)
        assert place.shares_object(root, "f", cache, k)  # a hardlink tree's pushed file becomes the object
    finally:
        hashes.close()
