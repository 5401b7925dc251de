"""server.browse.catalog in process over real storage (a folder, S3): hostile manifests and summaries are
left out (and counted), folders add up, and the cache of parsed manifests stays bounded and notices a
version uploaded again."""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.support.registry import BACKENDS

from selenite.server.browse.catalog import IndexCache, build_index, versions
from selenite.server.errors import HttpError
from selenite.server.jsonfiles import write_json
from selenite.server.storage.base import Storage
from selenite.server.storage.folder import FolderStorage


def _file(size: int = 1, **extra: object) -> dict[str, object]:
    return {"size": size, "md5sum": "0" * 32, **extra}


def test_entries_of_the_wrong_shape_are_counted_not_shown() -> None:
    link = {"project": "p", "asset": "a", "version": "v1", "path": "x/y.txt"}
    index = build_index({
        "ok/a.txt": _file(3),
        "ok/deep/b.txt": _file(4, link={**link, "ancestor": {**link, "version": "v0"}}),
        "c.txt": _file(5),
        # refused: empty, '.', '..' or control characters in a path; bad sizes, md5s, links
        "a//b": _file(), "/a": _file(), "a/": _file(), "./a": _file(), "a/../b": _file(), "": _file(),
        "bell\x07": _file(), "neg": _file(-1), "bool": _file(True), "no-md5": {"size": 1}, "list": [1],
        "bad-link": _file(link={**link, "project": "p/q"}), "bad-link-path": _file(link={**link, "path": "../x"}),
        "link-not-dict": _file(link="p/a/v1/x"),
    })
    assert index.paths == ["c.txt", "ok/a.txt", "ok/deep/b.txt"] and index.skipped == 14
    root, ok = index.folders[""], index.folders["ok"]
    assert (root.folders, root.count, root.size) == (["ok"], 3, 12)
    assert (ok.folders, [index.files[i].path for i in ok.files], ok.count, ok.size) == (["deep"], ["ok/a.txt"], 2, 7)
    linked = index.files[2]
    assert linked.link is not None and linked.link.key == "p/a/v1/x/y.txt"
    assert linked.origin is not None and linked.origin.key == "p/a/v0/x/y.txt"  # where its bytes are
    assert build_index(["not", "a", "dict"]).skipped == 1


@pytest.fixture(params=BACKENDS)
def storage(request: pytest.FixtureRequest, tmp_path: Path) -> Storage:
    """The pages read only through the Storage interface: each backend once."""
    if request.param == "s3":
        from srvhelpers import s3_storage

        s3: Storage = s3_storage()
        return s3
    return FolderStorage(tmp_path / "registry")


def _version(storage: Storage, v: str, files: dict[str, dict[str, object]], summary: object) -> None:
    write_json(storage, f"p/a/{v}/..manifest", files)
    write_json(storage, f"p/a/{v}/..summary", summary)


def test_versions_and_the_cache(storage: Storage) -> None:
    done = {"upload_user_id": "u", "upload_finish": "2026-01-02T00:00:00.000Z"}
    _version(storage, "v1", {f"f{i}": _file() for i in range(3)}, {**done, "upload_finish": "2026-01-01T00:00:00Z"})
    _version(storage, "v2", {f"f{i}": _file() for i in range(4)}, {**done, "on_probation": True})
    _version(storage, "v3", {"f": _file()}, {"upload_user_id": "u"})  # unfinished: not a version yet
    _version(storage, "v4", {"f": _file()}, ["garbage"])
    write_json(storage, "p/a/..latest", {"version": "v1"})
    found = versions(storage, "p", "a")
    assert [(v.name, v.probation, v.latest) for v in found] == [("v2", True, False), ("v1", False, True)]
    with pytest.raises(HttpError) as e:
        versions(storage, "p", "nothing")
    assert e.value.status == 404

    cache = IndexCache(limit=5)
    assert cache.totals(storage, "p", "a", "v1") == (3, 3)
    first = cache.get(storage, "p", "a", "v1")
    assert cache.get(storage, "p", "a", "v1") is first  # parsed once
    cache.get(storage, "p", "a", "v2")  # 3 + 4 files > 5: v1's index is dropped, its totals kept
    assert cache.get(storage, "p", "a", "v1") is not first
    assert cache.totals(storage, "p", "a", "v2") == (4, 4)
    _version(storage, "v1", {"g": _file(9)}, done)  # removed and uploaded again: read anew
    assert cache.get(storage, "p", "a", "v1").paths == ["g"] and cache.totals(storage, "p", "a", "v1") == (1, 9)
    with pytest.raises(HttpError):
        cache.get(storage, "p", "a", "v9")
