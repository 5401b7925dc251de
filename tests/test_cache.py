"""The object store: atomic, checked, read-only, deduplicated, safe with several processes."""

from __future__ import annotations

import hashlib
import multiprocessing
import os
import stat
import time
from pathlib import Path

import pytest

from selenite.cache import CORRUPTED, MISSING, OK, Cache, registry_id, tree_hash
from selenite.errors import ChecksumMismatch
from selenite.keys import Key


def key_of(data: bytes, ext: str = ".bin") -> Key:
    return Key(hashlib.md5(data).hexdigest(), len(data), ext)


@pytest.fixture
def cache(tmp_path: Path) -> Cache:
    return Cache(tmp_path / "cache")


def test_put_stream_layout_and_modes(cache: Cache) -> None:
    k = key_of(b"hello world", ".csv")
    path = cache.put_stream(k, [b"hello ", b"world"])
    assert path == cache.root / "objects" / k.md5[:2] / k.md5[2:4] / k.name / k.name
    assert path.read_bytes() == b"hello world"
    assert stat.S_IMODE(path.stat().st_mode) == 0o444
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o555
    assert cache.state(k) == OK and cache.signature_ok(k)
    assert os.listdir(cache.tmp) == []


def test_wrong_bytes_store_nothing(cache: Cache) -> None:
    k = key_of(b"right")
    with pytest.raises(ChecksumMismatch):
        cache.put_stream(k, [b"wrong"])
    with pytest.raises(ChecksumMismatch):
        cache.put_stream(k, [b"right!"])  # size differs
    assert not cache.has(k)
    assert os.listdir(cache.tmp) == []


def test_interrupted_write_leaves_no_object(cache: Cache) -> None:
    k = key_of(b"abcdef")

    def chunks():
        yield b"abc"
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        cache.put_stream(k, chunks())
    assert not cache.has(k) and os.listdir(cache.tmp) == []


def test_write_through_link_is_caught(cache: Cache) -> None:
    k = key_of(b"original")
    path = cache.put_stream(k, [b"original"])
    os.chmod(path, 0o644)
    path.write_bytes(b"ORIGINAL")  # same size, new bytes: what an editor does through a link
    assert not cache.signature_ok(k)
    assert cache.state(k) == CORRUPTED
    assert not cache.verify(k)
    # repair: replace=True restores the object
    cache.put_stream(k, [b"original"], replace=True)
    assert cache.state(k) == OK and path.read_bytes() == b"original"


def test_touch_only_rehashes_and_records(cache: Cache) -> None:
    k = key_of(b"same")
    path = cache.put_stream(k, [b"same"])
    os.utime(path, ns=(1, 1))
    assert not cache.signature_ok(k)
    assert cache.state(k) == OK  # re-hashed, still right
    assert cache.signature_ok(k)  # and the new signature recorded


def test_same_content_other_extension_is_a_hard_link(cache: Cache) -> None:
    k = key_of(b"data", ".csv")
    cache.put_stream(k, [b"data"])
    other = k.with_ext(".txt")
    assert cache.ensure_local(other)
    assert cache.object_path(other).stat().st_ino == cache.object_path(k).stat().st_ino
    assert not cache.ensure_local(key_of(b"absent"))


def test_own_link_changes_keep_objects_signed_and_a_foreign_one_does_not(cache: Cache, tmp_path: Path) -> None:
    """The signature holds ctime. Deduplicating by hard link, linking out, and removing a sibling move
    it; selenite signs the objects again each time. A link made behind its back is re-hashed."""
    k = key_of(b"data", ".csv")
    cache.put_stream(k, [b"data"])
    other = k.with_ext(".txt")
    assert cache.ensure_local(other)  # a hard link to k's object
    assert cache.signature_ok(k) and cache.signature_ok(other)
    with cache.keeping_signatures([k]):
        os.link(cache.object_path(k), tmp_path / "out")
    assert cache.signature_ok(k) and cache.signature_ok(other)
    assert cache.remove(other)
    assert cache.signature_ok(k)
    time.sleep(0.05)  # past the kernel's coarse ctime tick
    os.link(cache.object_path(k), tmp_path / "foreign")  # not selenite's: the signature no longer holds
    assert not cache.signature_ok(k)
    assert cache.state(k) == OK and cache.signature_ok(k)  # one re-hash, signed anew


def test_put_file_and_remove(cache: Cache, tmp_path: Path) -> None:
    src = tmp_path / "x.tar.gz"
    src.write_bytes(b"payload")
    k = cache.put_file(src)
    assert k == key_of(b"payload", ".tar.gz")
    with pytest.raises(ChecksumMismatch):
        cache.put_file(src, expected=key_of(b"other"))
    assert cache.remove(k) and not cache.has(k) and cache.state(k) == MISSING
    assert not cache.object_path(k).parent.exists()
    assert not cache.remove(k)


def _writer(root: str, n: int) -> None:
    c = Cache(Path(root))
    for i in range(n):
        data = b"x" * (i * 1000 + 1)
        c.put_stream(key_of(data), [data[: len(data) // 2], data[len(data) // 2 :]])


def test_concurrent_writers_of_the_same_keys(cache: Cache) -> None:
    ctx = multiprocessing.get_context("spawn")
    procs = [ctx.Process(target=_writer, args=(str(cache.root), 30)) for _ in range(3)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
        assert p.exitcode == 0
    keys = [k for k, _, _ in cache.iter_objects()]
    assert len(keys) == 30
    assert all(cache.verify(k) for k in keys)
    assert os.listdir(cache.tmp) == []


def test_manifest_tree_ref_round_trip(cache: Cache) -> None:
    reg = registry_id("http://127.0.0.1:8787/")
    assert reg == "127.0.0.1%3A8787"
    cache.save_manifest(reg, "p", "a", "v1", {"x.csv": {"md5sum": "0" * 32, "size": 1}})
    assert cache.load_manifest(reg, "p", "a", "v1") == {"x.csv": {"md5sum": "0" * 32, "size": 1}}
    assert cache.load_manifest(reg, "p", "a", "v2") is None
    assert cache.manifest_versions(reg, "p", "a") == ["v1"]
    listing = {"b/x.csv": key_of(b"1", ".csv"), "a": key_of(b"2", "")}
    h = cache.put_tree(listing)
    assert h == tree_hash(listing) and cache.get_tree(h) == listing
    cache.set_ref(reg, "p", "a", "v1", h)
    assert cache.get_ref(reg, "p", "a", "v1") == h
    with pytest.raises(Exception, match="cannot be used"):
        cache.get_ref(reg, "..", "a", "v1")


def test_tree_hash_is_unambiguous() -> None:
    k1, k2 = key_of(b"1"), key_of(b"2")
    assert tree_hash({"a": k1, "b": k2}) == tree_hash({"b": k2, "a": k1})
    assert tree_hash({"a": k1, "b": k2}) != tree_hash({"a": k2, "b": k1})
    assert tree_hash({"a": k1}) != tree_hash({"a/": k1})


def test_tampered_tree_file_is_not_trusted(cache: Cache) -> None:
    h = cache.put_tree({"a": key_of(b"1")})
    path = cache.root / "trees" / h[:2] / f"{h}.json"
    path.write_text('{"a": "%s"}' % key_of(b"2").name)
    assert cache.get_tree(h) is None
    for bad in ("../x", ".git/config", "a/.GIT./hooks/x"):  # not a tree selenite would write: not trusted
        path.write_text('{"%s": "%s"}' % (bad, key_of(b"1").name))
        assert cache.get_tree(h) is None


def test_worktrees_registry(cache: Cache, tmp_path: Path) -> None:
    cache.register_worktree(tmp_path / "t1")
    cache.register_worktree(tmp_path / "t1")
    cache.register_worktree(tmp_path / "t2")
    assert cache.worktrees() == [tmp_path / "t1", tmp_path / "t2"]
    cache.forget_worktree(tmp_path / "t1")
    assert cache.worktrees() == [tmp_path / "t2"]

