"""Contract tests of the Storage interface (run against every backend), plus folder-only safety."""

from __future__ import annotations

import hashlib
import os
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.support.registry import BACKENDS

from selenite.server.errors import BadStorageKey, DigestMismatch, SetupError
from selenite.server.storage.base import Storage, validate_key
from selenite.server.storage.factory import open_storage
from selenite.server.storage.folder import FolderStorage


def _make_storage(backend: str, tmp_path: Path) -> Storage:
    if backend == "folder":
        return FolderStorage(tmp_path / "root")
    if backend == "s3":
        from srvhelpers import s3_storage

        return s3_storage()
    pytest.skip(f"no storage setup for {backend} yet")


@pytest.fixture(params=BACKENDS)
def storage(request: pytest.FixtureRequest, tmp_path: Path) -> Storage:
    return _make_storage(request.param, tmp_path)


def test_small_objects_round_trip_and_head_knows_the_md5(storage: Storage) -> None:
    assert storage.get_bytes("p/..usage") is None
    storage.put_bytes("p/..usage", b'{"total":0}')
    storage.put_bytes("p/..usage", b'{"total":1}')  # replace
    assert storage.get_bytes("p/..usage") == b'{"total":1}'
    info = storage.head("p/..usage")
    assert info is not None and info.size == 11 and info.md5 == hashlib.md5(b'{"total":1}').hexdigest()
    assert info.last_modified.tzinfo is not None


def test_put_many_stores_each_object_whole_and_replaces(storage: Storage) -> None:
    storage.put_bytes("p/a/v/x/..links", b"old")
    items = [(f"p/a/v/{d}..links", f'{{"f{i}":{{}}}}'.encode()) for i, d in enumerate(["", "x/", "x/y/"])]
    storage.put_many(items, content_type="application/json")
    storage.put_many([])
    for key, data in items:
        assert storage.get_bytes(key) == data
        info = storage.head(key)
        assert info is not None and info.md5 == hashlib.md5(data).hexdigest()


def test_stream_put_checks_md5_and_stores_nothing_on_mismatch(storage: Storage, tmp_path: Path) -> None:
    data = os.urandom(3 * 1024 * 1024 + 7)
    chunks: Iterator[bytes] = (data[i : i + 65536] for i in range(0, len(data), 65536))
    info = storage.put_stream("p/a/v/big.bin", chunks, md5_hex=hashlib.md5(data).hexdigest())
    assert info.size == len(data) and info.md5 == hashlib.md5(data).hexdigest()  # known without re-reading
    stream = storage.open("p/a/v/big.bin")
    assert stream is not None
    try:
        assert b"".join(stream.chunks) == data
    finally:
        stream.close()

    with pytest.raises(DigestMismatch):
        storage.put_stream("p/a/v/bad.bin", iter([b"hello"]), md5_hex="0" * 32)
    assert storage.head("p/a/v/bad.bin") is None
    if isinstance(storage, FolderStorage):
        assert os.listdir(storage.tmp) == []  # no temp file left behind


def test_exclusive_create_has_exactly_one_winner(storage: Storage) -> None:
    results: list[bool] = []
    barrier = threading.Barrier(8)

    def attempt(i: int) -> None:
        barrier.wait()
        results.append(storage.create_exclusive("p/..LOCK", f"{i}".encode()))

    threads = [threading.Thread(target=attempt, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results.count(True) == 1
    # the content is whole, from exactly one writer
    assert storage.get_bytes("p/..LOCK") in {f"{i}".encode() for i in range(8)}


def test_listing_follows_the_delimiter_semantics(storage: Storage) -> None:
    for key in ("test/..permissions", "test/blob/..latest", "test/blob/v1/..summary", "test/blob/v1/x.txt",
                "test/blob/v1/sub/y.txt", "testicle/..permissions", "..logs/2025-01-01T00:00:00.000Z_123456"):
        storage.put_bytes(key, b"{}")
    assert storage.list_dir("") == ["..logs/", "test/", "testicle/"]
    assert storage.list_dir("test/") == ["test/blob/", "test/..permissions"]
    assert storage.list_dir("test/blob/v1") == ["test/blob/v1/"]
    assert storage.list_dir("test/blob/..") == ["test/blob/..latest"]  # a partial last component is a string prefix
    assert storage.list_dir("nothing/") == []
    assert [k for k, _ in storage.list_recursive("test/blob/")] == [
        "test/blob/..latest", "test/blob/v1/..summary", "test/blob/v1/sub/y.txt", "test/blob/v1/x.txt"]
    assert [k for k, _ in storage.list_recursive("test")] [-1] == "testicle/..permissions"


def test_delete_prefix_reports_sizes_and_respects_the_boundary(storage: Storage) -> None:
    storage.put_bytes("test/a/v1/x", b"12345")
    storage.put_bytes("test/a/v1/d/y", b"12")
    storage.put_bytes("testicle/a/v1/x", b"1")
    assert storage.delete_prefix("test/") == {"test/a/v1/x": 5, "test/a/v1/d/y": 2}
    assert storage.list_dir("") == ["testicle/"]  # emptied folders are not listed as prefixes
    assert storage.delete("testicle/a/v1/x") == 1
    assert storage.delete("testicle/a/v1/x") is None
    assert storage.list_dir("") == []


@pytest.mark.parametrize(
    "key", ["", "../etc/passwd", "a/../../b", "a//b", "/abs", "a/./b", "a\\b", "a\x00b", ".", "a/", "x/" + "y" * 300]
)
def test_bad_keys_are_refused_everywhere(storage: Storage, key: str) -> None:
    with pytest.raises(BadStorageKey):
        validate_key(key)
    for call in (lambda: storage.get_bytes(key), lambda: storage.put_bytes(key, b"x"), lambda: storage.head(key),
                 lambda: storage.create_exclusive(key, b"x"), lambda: storage.delete(key), lambda: storage.open(key),
                 lambda: storage.state_put(key, b"x")):
        with pytest.raises(BadStorageKey):
            call()


def test_list_prefix_cannot_climb_out(storage: Storage) -> None:
    with pytest.raises(BadStorageKey):
        storage.list_dir("../")
    with pytest.raises(BadStorageKey):
        list(storage.list_recursive("a/../../"))


def test_state_area_is_separate_from_the_bucket(storage: Storage) -> None:
    storage.state_put("tokens/abc", b"secret")
    assert storage.state_get("tokens/abc") == b"secret"
    assert storage.get_bytes("tokens/abc") is None
    assert storage.list_dir("") == [] and list(storage.list_recursive("")) == []
    assert storage.state_create_exclusive("tokens/abc", b"other") is False
    storage.state_delete("tokens/abc")
    assert storage.state_get("tokens/abc") is None


def test_staging_area_is_separate_and_promote_moves_into_the_bucket(storage: Storage, tmp_path: Path) -> None:
    data = os.urandom(70_000)
    spool = storage.spool_dir() or str(tmp_path)
    for name in ("p/s1/d/f.bin", "p/s1/d/f.binx", "p/s2/g.bin"):
        path = os.path.join(spool, "incoming")
        Path(path).write_bytes(data)
        info = storage.stage_file(name, path, md5_hex=hashlib.md5(data).hexdigest())
        assert (info.size, info.md5) == (len(data), hashlib.md5(data).hexdigest()) and not os.path.exists(path)
    # nothing of it is in the bucket, its listings or its keys
    assert storage.list_dir("") == [] and list(storage.list_recursive("")) == []
    assert storage.head("p/s1/d/f.bin") is None
    assert [n for n, _ in storage.list_staged("p/s1/")] == ["p/s1/d/f.bin", "p/s1/d/f.binx"]
    info = storage.promote("p/s1/d/f.bin", "p/a/v/d/f.bin")
    assert info is not None and (info.size, info.md5) == (len(data), hashlib.md5(data).hexdigest())
    assert storage.head_staged("p/s1/d/f.bin") is None and storage.get_bytes("p/a/v/d/f.bin") == data
    assert storage.promote("p/s1/d/f.bin", "p/a/v/d/f.bin") is None  # nothing staged there any more
    assert storage.delete_staged("p/s1/") == {"p/s1/d/f.binx": len(data)}
    assert [n for n, _ in storage.list_staged("")] == ["p/s2/g.bin"]
    with pytest.raises(BadStorageKey):
        storage.head_staged("p/../../x")


def test_many_staged_objects_are_checked_and_promoted_as_they_were_seen(storage: Storage) -> None:
    files = {f"p/s3/d{i % 3}/f{i:02d}.bin": os.urandom(100 + i) for i in range(20)}  # enough to be listed
    storage.stage_many([(name, data, hashlib.md5(data).hexdigest()) for name, data in files.items()])
    names = [*files, "p/s3/d0/absent.bin"]
    infos = storage.head_staged_many(names)
    assert infos[-1] is None
    for name, info in zip(files, infos, strict=False):
        assert info is not None and info.key == name and info.size == len(files[name])
        assert info.md5 == hashlib.md5(files[name]).hexdigest() and info.last_modified.tzinfo is not None
    # Changed after it was checked: not promoted (the S3 backend copies only the object it saw).
    changed = "p/s3/d1/f01.bin"
    storage.stage_many([(changed, b"other bytes", hashlib.md5(b"other bytes").hexdigest())])
    pairs = [(name, name.replace("p/s3/", "p/a/v/")) for name in files]
    missed = storage.promote_many(pairs, [i for i in infos if i is not None])
    if storage.head("p/a/v/d1/f01.bin") is not None:  # the folder moves what is there: the new bytes
        assert missed == [] and storage.get_bytes("p/a/v/d1/f01.bin") == b"other bytes"
    else:
        assert missed == [changed]
    for name, key in pairs:
        if name != changed:
            assert storage.get_bytes(key) == files[name] and storage.head_staged(name) is None


def test_folder_refuses_symlinks_that_leave_the_bucket(tmp_path: Path) -> None:
    fs = FolderStorage(tmp_path / "root")
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text("no")
    (fs.bucket / "p").mkdir()
    os.symlink(outside, fs.bucket / "p" / "evil")
    with pytest.raises(BadStorageKey):
        fs.get_bytes("p/evil/secret.txt")
    with pytest.raises(BadStorageKey):
        fs.put_bytes("p/evil/new.txt", b"x")
    assert not (outside / "new.txt").exists()


def test_open_storage_needs_exactly_one_location(tmp_path: Path) -> None:
    with pytest.raises(SetupError):
        open_storage()
    with pytest.raises(SetupError):
        open_storage(root=tmp_path, storage="s3://b")
    with pytest.raises(SetupError):
        open_storage(storage="gs://b")
    assert isinstance(open_storage(root=tmp_path / "r"), FolderStorage)
