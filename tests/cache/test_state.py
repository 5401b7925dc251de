"""cache.state: an object is trusted while its recorded stat signature holds, re-hashed otherwise; registered trees."""

from __future__ import annotations

import os
import time
from pathlib import Path

from selenite.cache import CORRUPTED, MISSING, OK, Cache
from tests.cache.conftest import key_of, signed


def test_write_through_link_is_caught(cache: Cache) -> None:
    k = key_of(b"original")
    path = cache.put_stream(k, [b"original"])
    os.chmod(path, 0o644)
    path.write_bytes(b"ORIGINAL")  # same size, new bytes: what an editor does through a link
    assert not signed(cache, k)
    assert cache.state(k) == CORRUPTED
    assert not cache.verify(k)
    # repair: replace=True restores the object
    cache.put_stream(k, [b"original"], replace=True)
    assert cache.state(k) == OK and path.read_bytes() == b"original"


def test_touch_only_rehashes_and_records(cache: Cache) -> None:
    k = key_of(b"same")
    path = cache.put_stream(k, [b"same"])
    os.utime(path, ns=(1, 1))
    assert not signed(cache, k)
    assert cache.state(k) == OK  # re-hashed, still right
    assert signed(cache, k)  # and the new signature recorded


def test_own_link_changes_keep_objects_signed_and_a_foreign_one_does_not(cache: Cache, tmp_path: Path) -> None:
    """The signature holds ctime. Deduplicating by hard link, linking out, and removing a sibling move
    it; selenite signs the objects again each time. A link made behind its back is re-hashed."""
    k = key_of(b"data", ".csv")
    cache.put_stream(k, [b"data"])
    other = k.with_ext(".txt")
    assert cache.ensure_local(other)  # a hard link to k's object
    assert signed(cache, k) and signed(cache, other)
    with cache.keeping_signatures([k]):
        os.link(cache.object_path(k), tmp_path / "out")
    assert signed(cache, k) and signed(cache, other)
    assert cache.remove(other)
    assert signed(cache, k)
    time.sleep(0.05)  # past the kernel's coarse ctime tick
    os.link(cache.object_path(k), tmp_path / "foreign")  # not selenite's: the signature no longer holds
    assert not signed(cache, k)
    assert cache.state(k) == OK and signed(cache, k)  # one re-hash, signed anew


def test_worktrees_registry(cache: Cache, tmp_path: Path) -> None:
    cache.register_worktree(tmp_path / "t1")
    cache.register_worktree(tmp_path / "t1")
    cache.register_worktree(tmp_path / "t2")
    assert cache.worktrees() == [tmp_path / "t1", tmp_path / "t2"]
    cache.forget_worktree(tmp_path / "t1")
    assert cache.worktrees() == [tmp_path / "t2"]




def test_worktrees_remember_their_registries(cache: Cache, tmp_path: Path) -> None:
    cache.register_worktree(tmp_path / "t1", "http://b.example")
    cache.register_worktree(tmp_path / "t2", "http://a.example")
    cache.register_worktree(tmp_path / "t3", "http://a.example")
    assert cache.registry_urls() == ["http://a.example", "http://b.example"]


def test_keeping_signatures_with_shared_signatures(cache: Cache, tmp_path: Path) -> None:
    """A scan's ``sigs`` (from ``signatures``) are used, refreshed after a re-hash and after the
    operation; a damaged object is neither trusted before nor signed after."""
    good, bad = key_of(b"good"), key_of(b"bad!")
    cache.put_stream(good, [b"good"])
    bad_path = cache.put_stream(bad, [b"bad!"])
    os.chmod(bad_path, 0o644)
    bad_path.write_bytes(b"BAD!")
    sigs = cache.signatures()
    time.sleep(0.05)
    os.utime(cache.object_path(good), ns=(1, 1))  # a touch: re-hashed, found intact
    with cache.keeping_signatures([good, bad, key_of(b"absent")], sigs):
        os.link(cache.object_path(good), tmp_path / "out")
    assert sigs[good.name] == cache.signature(good) and signed(cache, good)
    assert bad.name not in sigs or not signed(cache, bad)
    assert cache.state(bad) == CORRUPTED


def test_verify_and_state_of_absent_or_unreadable_objects(cache: Cache) -> None:
    k = key_of(b"x")
    assert not cache.verify(k) and cache.state(k) == MISSING
    path = cache.put_stream(k, [b"x"])
    os.chmod(path.parent, 0o000)  # the object cannot even be stat'ed
    try:
        if os.geteuid() != 0:  # root reads through any mode
            assert cache.state(k) == CORRUPTED
    finally:
        os.chmod(path.parent, 0o555)


def test_a_damaged_signature_row_is_never_trusted(cache: Cache) -> None:
    k = key_of(b"x")
    cache.put_stream(k, [b"x"])
    cache._exec("UPDATE object_sigs SET mtime_ns = 'junk' WHERE key = ?", (k.name,))
    assert cache.signature(k) is not None and not signed(cache, k)
    assert cache.state(k) == OK and signed(cache, k)  # re-hashed, and signed anew


def test_close_and_reopen(cache: Cache) -> None:
    k = key_of(b"x")
    cache.put_stream(k, [b"x"])
    cache.close()
    cache.close()  # twice is harmless
    assert Cache(cache.root).signature(k) == cache.signature(k)
