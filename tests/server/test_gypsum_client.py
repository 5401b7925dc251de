"""The real gypsum_client==0.2.0 against `selenite serve`, unchanged.

Its defaults (url, cache_dir) are bound at import time, so every call passes url= (and token=,
cache_dir=) explicitly.
"""

from __future__ import annotations

import os
from pathlib import Path

import gypsum_client as gc
import pytest
from srvhelpers import Server


def _tree(root: Path, files: dict[str, bytes]) -> Path:
    for rel, data in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_bytes(data)
    return root


def test_full_workflow_with_the_real_client(srv: Server, tmp_path: Path) -> None:
    url, admin, alice, carol = srv.url, srv.tokens["admin"], srv.tokens["alice"], srv.tokens["carol"]
    cache = str(tmp_path / "gcache")
    gc.remove_project("gyp", url=url, token=admin)  # idempotent on a missing project
    gc.create_project("gyp", owners=["alice"], uploaders=[{"id": "carol"}], url=url, token=admin)
    assert gc.fetch_permissions("gyp", url=url) == {"owners": ["alice"], "uploaders": [{"id": "carol"}]}
    assert gc.fetch_quota("gyp", url=url)["baseline"] == 10_000_000_000
    assert gc.fetch_usage("gyp", url=url) == 0

    v1 = {"whee.txt": b"whee", "foo/bar.txt": b"bar" * 100, "blah.txt": b"blah"}
    v1_dir = str(_tree(tmp_path / "v1", v1))
    assert gc.upload_directory(v1_dir, "gyp", "blob", "v1", url=url, token=alice, cache_dir=cache)
    man1 = gc.fetch_manifest("gyp", "blob", "v1", url=url, cache_dir=cache)
    assert {k: v["size"] for k, v in man1.items()} == {k: len(b) for k, b in v1.items()}
    assert "upload_finish" in gc.fetch_summary("gyp", "blob", "v1", url=url, cache_dir=cache)

    # v2: links to v1 plus one new file
    init = gc.start_upload(
        "gyp", "blob", "v2", files=["new.txt"], directory=str(_tree(tmp_path / "v2", {"new.txt": b"fresh"})),
        links=[{"from.path": "linked/whee.txt", "to.project": "gyp", "to.asset": "blob", "to.version": "v1",
                "to.path": "whee.txt"}],
        url=url, token=alice,
    )
    gc.upload_files(init, directory=str(tmp_path / "v2"), url=url)
    gc.complete_upload(init, url=url)
    # v3 links to v2's link: the manifest carries the ancestor
    init = gc.start_upload("gyp", "blob", "v3", files=[], links=[
        {"from.path": "w.txt", "to.project": "gyp", "to.asset": "blob", "to.version": "v2",
         "to.path": "linked/whee.txt"}],
        url=url, token=alice)
    gc.complete_upload(init, url=url)
    man3 = gc.fetch_manifest("gyp", "blob", "v3", url=url, cache_dir=cache)
    assert man3["w.txt"]["link"]["ancestor"] == {"project": "gyp", "asset": "blob", "version": "v1", "path": "whee.txt"}
    assert gc.fetch_latest("gyp", "blob", url=url) == "v3"
    assert gc.fetch_usage("gyp", url=url) == sum(map(len, v1.values())) + len(b"fresh")

    assert "gyp" in gc.list_projects(url=url)  # the module's server may hold other tests' projects
    assert gc.list_assets("gyp", url=url) == ["blob"]
    assert sorted(gc.list_versions("gyp", "blob", url=url)) == ["v1", "v2", "v3"]
    # v2's one link sits in linked/, so its links file does too
    v2_files = sorted(gc.list_files("gyp", "blob", "v2", url=url))
    assert v2_files == ["..manifest", "..summary", "linked/..links", "new.txt"]

    # downloads through links
    assert Path(gc.save_file("gyp", "blob", "v3", "w.txt", url=url, cache_dir=cache)).read_bytes() == b"whee"
    saved = Path(gc.save_version("gyp", "blob", "v2", url=url, cache_dir=cache))
    assert (saved / "linked" / "whee.txt").read_bytes() == b"whee" and (saved / "new.txt").read_bytes() == b"fresh"

    # clone, edit, prepare, upload a new version with links
    clone = tmp_path / "clone"
    gc.clone_version("gyp", "blob", "v1", str(clone), url=url, cache_dir=cache)
    os.unlink(clone / "blah.txt")
    (clone / "blah.txt").write_bytes(b"edited")
    prepared = gc.prepare_directory_upload(str(clone), cache_dir=cache)
    assert prepared["files"] == ["blah.txt"] and len(prepared["links"]) == 2
    init = gc.start_upload("gyp", "blob", "v4", files=prepared["files"], links=prepared["links"], directory=str(clone),
                           url=url, token=alice)
    assert [f["path"] for f in init["file_urls"]] == ["blah.txt"]
    gc.upload_files(init, directory=str(clone), url=url)
    gc.complete_upload(init, url=url)
    v4 = Path(gc.save_version("gyp", "blob", "v4", url=url, cache_dir=cache))
    assert (v4 / "blah.txt").read_bytes() == b"edited" and (v4 / "foo" / "bar.txt").read_bytes() == b"bar" * 100

    # permissions; an untrusted uploader lands on probation
    gc.set_permissions("gyp", uploaders=[{"id": "bob", "trusted": True}], url=url, token=alice)
    assert [u["id"] for u in gc.fetch_permissions("gyp", url=url)["uploaders"]] == ["carol", "bob"]
    gc.upload_directory(str(_tree(tmp_path / "p1", {"p.txt": b"probation"})), "gyp", "blob", "p1",
                        url=url, token=carol, cache_dir=cache)
    assert gc.fetch_summary("gyp", "blob", "p1", url=url, cache_dir=cache)["on_probation"] is True
    assert gc.fetch_latest("gyp", "blob", url=url) == "v4"
    gc.approve_probation("gyp", "blob", "p1", url=url, token=alice)
    assert gc.fetch_latest("gyp", "blob", url=url) == "p1"
    gc.upload_directory(str(_tree(tmp_path / "p2", {"p.txt": b"nope"})), "gyp", "blob", "p2",
                        url=url, token=carol, cache_dir=cache)
    gc.reject_probation("gyp", "blob", "p2", url=url, token=carol)
    assert "p2" not in gc.list_versions("gyp", "blob", url=url)

    assert gc.refresh_latest("gyp", "blob", url=url, token=admin) == "p1"
    assert gc.refresh_usage("gyp", url=url, token=admin) == gc.fetch_usage("gyp", url=url)
    gc.set_quota("gyp", baseline=1, growth_rate=0, url=url, token=admin)
    assert gc.fetch_quota("gyp", url=url)["baseline"] == 1
    with pytest.raises(Exception, match="quota"):
        gc.upload_directory(str(_tree(tmp_path / "big", {"b.txt": b"too big"})), "gyp", "blob", "big",
                            url=url, token=alice, cache_dir=cache)

    gc.remove_version("gyp", "blob", "p1", url=url, token=admin)
    assert gc.fetch_latest("gyp", "blob", url=url) == "v4"
    gc.remove_asset("gyp", "blob", url=url, token=admin)
    assert gc.list_assets("gyp", url=url) == []
    gc.remove_project("gyp", url=url, token=admin)
    assert "gyp" not in gc.list_projects(url=url)


def test_client_sees_refusals(srv: Server, tmp_path: Path) -> None:
    url = srv.url
    with pytest.raises(Exception, match="403"):
        gc.create_project("nope", owners=["eve"], url=url, token=srv.tokens["eve"])
    with pytest.raises(Exception, match="401"):
        gc.create_project("nope", owners=["eve"], url=url, token="sel_bogus")


def test_file_names_with_spaces_and_plus(srv: Server, tmp_path: Path) -> None:
    """gypsum_client 0.2.0 puts `quote_plus(key)` in `/file/` URLs: a space arrives as '+'."""
    url, alice, cache = srv.url, srv.tokens["alice"], str(tmp_path / "gcache")
    gc.create_project("spc", owners=["alice"], url=url, token=srv.tokens["admin"])
    files = {"with space.txt": b"space", "a+b.txt": b"plus", "dir one/x y+z.csv": b"both"}
    v1_dir = str(_tree(tmp_path / "v1", files))
    assert gc.upload_directory(v1_dir, "spc", "a", "v1", url=url, token=alice, cache_dir=cache)
    clone = tmp_path / "clone"
    gc.clone_version("spc", "a", "v1", str(clone), url=url, cache_dir=cache, download=True)
    assert {p: (clone / p).read_bytes() for p in files} == files
    saved = gc.save_file("spc", "a", "v1", "with space.txt", url=url, cache_dir=str(tmp_path / "c2"))
    assert Path(saved).read_bytes() == b"space"
    for raw, status in (("spc%2Fa%2Fv1%2Fwith+space.txt", 200), ("spc%2Fa%2Fv1%2Fwith%20space.txt", 200),
                        ("spc%2Fa%2Fv1%2Fa%2Bb.txt", 200), ("spc%2Fa%2Fv1%2Fa+b.txt", 200),
                        ("spc%2Fa%2Fv1%2Fa%20b.txt", 404)):
        assert srv.req("GET", f"/file/{raw}").status_code == status, raw
        assert srv.req("HEAD", f"/file/{raw}").status_code == status, raw
    gc.remove_project("spc", url=url, token=srv.tokens["admin"])


def test_empty_and_larger_files_through_staging(srv: Server, tmp_path: Path) -> None:
    # requests sends an empty file chunked (no Content-Length): the upload URL must take it.
    url, admin, alice = srv.url, srv.tokens["admin"], srv.tokens["alice"]
    cache = str(tmp_path / "gcache")
    gc.create_project("gyp-empty", owners=["alice"], url=url, token=admin)
    files = {"empty.txt": b"", "d/big.bin": os.urandom(2_500_000)}
    assert gc.upload_directory(str(_tree(tmp_path / "v1", files)), "gyp-empty", "a", "v1", url=url, token=alice,
                               cache_dir=cache)
    for rel, data in files.items():
        got = gc.save_file("gyp-empty", "a", "v1", rel, url=url, cache_dir=str(tmp_path / "fresh"))
        assert Path(got).read_bytes() == data
    assert gc.fetch_usage("gyp-empty", url=url) == len(files["d/big.bin"])
