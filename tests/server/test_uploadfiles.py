"""server.uploadfiles, in process: an upload start's files[] refused in the worker's order, dedup
entries turned into links, links resolved (over a real FolderStorage)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from selenite.server.context import Context, ServerSettings
from selenite.server.errors import HttpError
from selenite.server.jsonfiles import write_json
from selenite.server.keyspace import latest_key, manifest_key, summary_key
from selenite.server.storage.folder import FolderStorage
from selenite.server.uploadfiles import dedup, resolve_links, validate_files

MD5 = "0cc175b9c0f1b6a831c399e269772661"


def _why(files: object) -> str:
    with pytest.raises(HttpError) as e:
        validate_files(files)
    assert e.value.status == 400
    return e.value.reason


def simple(path: str, **kw: Any) -> dict[str, Any]:
    return {"type": "simple", "path": path, "md5sum": MD5, "size": 1, **kw}


def test_refusals_follow_the_workers_order() -> None:
    assert _why({}) == "expected the 'files' property to be an array"
    assert _why(["x"]) == "'files' should be an array of objects"
    assert _why([simple("../x")]) == "components of 'files.path' cannot start with '..'"
    # a duplicate is named before anything else is wrong with the second entry
    assert _why([simple("a"), {"path": "a", "type": 3}]) == "duplicated value 'a' in 'files.path'"
    assert _why([{"path": "a", "type": 3}]) == "'files.type' should be a string"
    assert _why([simple("a", md5sum=1)]) == "'files.md5sum' should be a string"
    assert _why([simple("a", size=-1)]) == "'files.size' should be a non-negative integer"
    assert _why([simple("a", size=True)]) == "'files.size' should be a non-negative integer"
    assert _why([simple("a", md5sum="xyz")]) == "'files.md5sum' should be a 32-character hexadecimal MD5"
    assert _why([{"type": "link", "path": "a", "link": []}]) == "'files.link' should be an object"
    assert _why([{"type": "link", "path": "a", "link": {"project": "p"}}]) == "'files.link.asset' should be a string"
    assert _why([{"type": "other", "path": "a"}]) == "invalid 'files.type'"
    assert "a file cannot also be a folder" in _why([simple("a"), simple("a/b")])


def test_a_whole_float_size_becomes_an_int() -> None:
    files = validate_files([simple("a", size=3.0)])
    assert files[0]["size"] == 3 and isinstance(files[0]["size"], int)


@pytest.fixture
def ctx(tmp_path: Path) -> Context:
    c = Context(storage=FolderStorage(tmp_path / "registry"), settings=ServerSettings())
    write_json(c.storage, summary_key("p", "a", "v1"), {"upload_finish": "2026-01-01T00:00:00.000Z"})
    write_json(c.storage, manifest_key("p", "a", "v1"), {
        "x.txt": {"size": 1, "md5sum": MD5},
        "y.txt": {"size": 1, "md5sum": MD5, "link": {"project": "q", "asset": "b", "version": "v0", "path": "z"}},
    })
    write_json(c.storage, latest_key("p", "a"), {"version": "v1"})
    return c


def test_dedup_links_what_the_latest_version_holds(ctx: Context) -> None:
    fresh = {"type": "dedup", "path": "new.txt", "md5sum": "f" * 32, "size": 1}
    same = {"type": "dedup", "path": "copy.txt", "md5sum": MD5, "size": 1}
    rest, links = dedup(ctx, "p", "a", [fresh, same])
    assert rest == [fresh]
    assert [link["link"]["version"] for link in links] == ["v1"] and links[0]["path"] == "copy.txt"
    assert dedup(ctx, "p", "other", [same]) == ([same], [])  # no latest version there


def test_links_copy_their_target_and_name_its_ancestor(ctx: Context) -> None:
    to = {"project": "p", "asset": "a", "version": "v1"}
    out = resolve_links(ctx, "p", "a", "v2", [
        {"path": "l1", "link": {**to, "path": "x.txt"}}, {"path": "l2", "link": {**to, "path": "y.txt"}},
    ])
    assert (out[0]["size"], out[0]["md5sum"]) == (1, MD5) and "ancestor" not in out[0]["link"]
    assert out[1]["link"]["ancestor"] == {"project": "q", "asset": "b", "version": "v0", "path": "z"}
    for link, why in (({**to, "path": "x.txt"}, "detected circular link"),
                      ({**to, "version": "v9", "path": "x"}, "cannot find version summary for link"),
                      ({**to, "version": "..", "path": "x"}, "cannot find version summary for link"),
                      ({**to, "path": "missing"}, "failed to link")):
        with pytest.raises(HttpError) as e:
            resolve_links(ctx, "p", "a", "v1" if why.startswith("detected") else "v2", [{"path": "l", "link": link}])
        assert e.value.reason.startswith(why), e.value.reason
