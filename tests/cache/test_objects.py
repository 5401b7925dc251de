"""cache.objects: stored atomically and checked, read-only, deduplicated, safe with several processes."""

from __future__ import annotations

import multiprocessing
import os
import stat
from pathlib import Path

import pytest

from selenite.cache import MISSING, OK, Cache, read_object
from selenite.errors import ChecksumMismatch, FatalError
from tests.cache.conftest import key_of, signed


def test_put_stream_layout_and_modes(cache: Cache) -> None:
    k = key_of(b"hello world", ".csv")
    path = cache.put_stream(k, [b"hello ", b"world"])
    assert path == cache.root / "objects" / k.md5[:2] / k.md5[2:4] / k.name / k.name
    assert path.read_bytes() == b"hello world"
    assert stat.S_IMODE(path.stat().st_mode) == 0o444
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o555
    assert cache.state(k) == OK and signed(cache, k)
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


def test_same_content_other_extension_is_a_hard_link(cache: Cache) -> None:
    k = key_of(b"data", ".csv")
    cache.put_stream(k, [b"data"])
    other = k.with_ext(".txt")
    assert cache.ensure_local(other)
    assert cache.object_path(other).stat().st_ino == cache.object_path(k).stat().st_ino
    assert not cache.ensure_local(key_of(b"absent"))


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


def test_read_object_checks_the_bytes_it_hands_out(cache: Cache) -> None:
    k = key_of(b"original")
    path = cache.put_stream(k, [b"original"])
    assert b"".join(read_object(cache, k)) == b"original"
    os.chmod(path, 0o644)
    path.write_bytes(b"ORIGINAL")
    with pytest.raises(ChecksumMismatch, match="does not match its key"):
        b"".join(read_object(cache, k))


def test_put_many_stores_a_lot_or_nothing(cache: Cache) -> None:
    good = [(key_of(d, ".txt"), d) for d in (b"one\n", b"two\n", b"")]
    cache.put_many(good)
    for key, data in good:
        assert cache.object_path(key).read_bytes() == data and cache.state(key) == OK
    bad = [(key_of(b"three\n", ".txt"), b"three\n"), (key_of(b"four\n", ".txt"), b"FOUR\n")]
    with pytest.raises(ChecksumMismatch):
        cache.put_many(bad)
    assert not cache.has(bad[0][0]) and not cache.has(bad[1][0])  # checked before any is installed
    assert os.listdir(cache.tmp) == []  # no temp file left behind


def test_a_damaged_object_is_kept_aside_before_it_is_restored(cache: Cache) -> None:
    notes: list[str] = []
    cache.notice = notes.append
    k = key_of(b"original")
    path = cache.put_stream(k, [b"original"])
    os.chmod(path, 0o644)
    path.write_bytes(b"EDITED!!")  # someone's edit, through a link
    cache.put_stream(k, [b"original"])  # a present but damaged object does not win
    assert path.read_bytes() == b"original" and cache.state(k) == OK
    kept = list((cache.root / "kept").iterdir())
    assert [p.read_bytes() for p in kept] == [b"EDITED!!"] and kept[0].name.endswith(k.name)
    assert len(notes) == 1 and str(kept[0]) in notes[0] and "the object is restored" in notes[0]


def test_removing_a_damaged_object_keeps_its_bytes(cache: Cache) -> None:
    notes: list[str] = []
    cache.notice = notes.append
    k = key_of(b"original")
    path = cache.put_stream(k, [b"original"])
    os.chmod(path, 0o644)
    path.write_bytes(b"EDITED!!")
    assert cache.remove(k) and not cache.has(k)
    assert [p.read_bytes() for p in (cache.root / "kept").iterdir()] == [b"EDITED!!"]
    assert "the object is removed" in notes[0]
    path2 = cache.put_stream(k, [b"original"])
    os.chmod(path2, 0o644)
    path2.write_bytes(b"EDITED!!")
    assert cache.remove(k, keep_damaged=False)  # the caller kept the bytes itself
    assert len(list((cache.root / "kept").iterdir())) == 1


def test_put_chunks_names_the_key_and_stores_content_once(cache: Cache) -> None:
    k = cache.put_chunks([b"da", b"ta"], "x.csv")
    assert k == key_of(b"data", ".csv") and cache.state(k) == OK
    ino = cache.object_path(k).stat().st_ino
    assert cache.put_chunks([b"data"], "y.csv") == k
    assert cache.object_path(k).stat().st_ino == ino and os.listdir(cache.tmp) == []
    with pytest.raises(ChecksumMismatch):
        cache.put_chunks([b"data"], "z.csv", expected=key_of(b"other"))


def test_no_sibling_link_from_a_damaged_object(cache: Cache) -> None:
    k = key_of(b"data", ".csv")
    path = cache.put_stream(k, [b"data"])
    os.chmod(path, 0o644)
    path.write_bytes(b"DATA")
    assert not cache.link_sibling(k.with_ext(".txt"))


def test_iter_objects_skips_what_is_not_an_object(cache: Cache) -> None:
    k = key_of(b"data")
    cache.put_stream(k, [b"data"])
    (cache.objects / "zz" / "zz" / "not-a-key").mkdir(parents=True)
    misplaced = key_of(b"other")
    (cache.objects / "00" / "00" / misplaced.name).mkdir(parents=True)  # a key in the wrong folder
    (cache.objects / k.md5[:2] / k.md5[2:4] / key_of(b"gone").name).mkdir(parents=True)  # md5 mismatch
    assert [key for key, _, _ in cache.iter_objects()] == [k]


def test_clean_tmp_removes_only_old_files(cache: Cache) -> None:
    old, fresh = cache.tmp / "in-old.part", cache.tmp / "in-new.part"
    old.write_bytes(b"x")
    fresh.write_bytes(b"y")
    os.utime(old, (1, 1))
    assert cache.clean_tmp() == 1
    assert os.listdir(cache.tmp) == ["in-new.part"]


def test_a_cache_that_cannot_be_made_is_one_line(tmp_path: Path) -> None:
    (tmp_path / "file").write_bytes(b"")
    with pytest.raises(FatalError, match="cannot create the cache at"):
        Cache(tmp_path / "file" / "cache")
