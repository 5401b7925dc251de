"""Removing a version, asset or project that later versions link into: the server gives those
versions their own bytes first (or points them at the surviving original), so nothing dangles,
even when the removal comes from gypsum_client's own remove_version."""

from __future__ import annotations

import hashlib
import uuid
from pathlib import Path
from typing import Any

import gypsum_client as gc
from srvhelpers import Server
from tests.support.files import write_tree


def _upload(srv: Server, tmp: Path, p: str, a: str, v: str, files: dict[str, bytes],
            links: dict[str, tuple[str, str, str, str]] | None = None) -> None:
    d = write_tree(tmp / f"{p}-{a}-{v}", files) if files else tmp
    specs = [{"from.path": k, "to.project": t[0], "to.asset": t[1], "to.version": t[2], "to.path": t[3]}
             for k, t in (links or {}).items()]
    init = gc.start_upload(p, a, v, files=sorted(files), links=specs, url=srv.url, token=srv.admin_token,
                           directory=str(d))
    gc.upload_files(init, directory=str(d), url=srv.url)
    gc.complete_upload(init, url=srv.url)


def _manifest(srv: Server, p: str, a: str, v: str) -> dict[str, Any]:
    r = srv.req("GET", f"/file/{p}%2F{a}%2F{v}%2F..manifest")
    assert r.status_code == 200, r.text
    data: dict[str, Any] = r.json()
    return data


def _links(srv: Server, key: str) -> Any:
    r = srv.req("GET", f"/file/{key.replace('/', '%2F')}")
    return r.json() if r.status_code == 200 else None


def _downloaded(srv: Server, tmp: Path, p: str, a: str, v: str) -> dict[str, bytes]:
    """The version as gypsum_client's save_version sees it (links resolved through ..links)."""
    root = Path(gc.save_version(p, a, v, cache_dir=str(tmp / f"gc-{uuid.uuid4().hex[:6]}"), url=srv.url))
    return {f.relative_to(root).as_posix(): f.read_bytes() for f in root.rglob("*")
            if f.is_file() and not f.name.startswith("..") and not f.name.endswith(".LOCK")}  # its own locks


def _create(srv: Server, p: str) -> None:
    r = srv.req("POST", f"/create/{p}", user="admin", json={"permissions": {"owners": ["alice"]}})
    assert r.status_code == 200, r.text


def test_removals_keep_every_dependent_whole(srv: Server, tmp_path: Path) -> None:
    p, q = f"lk-{uuid.uuid4().hex[:8]}", f"lq-{uuid.uuid4().hex[:8]}"
    _create(srv, p)
    _create(srv, q)
    a_bytes, b_bytes, n_bytes = b"alpha\n" * 100, b"beta\n" * 50, b"new\n"
    _upload(srv, tmp_path, p, "blob", "v1", {"a.txt": a_bytes, "sub/b.txt": b_bytes})
    _upload(srv, tmp_path, p, "blob", "v2", {"n.txt": n_bytes},
            {"a.txt": (p, "blob", "v1", "a.txt"), "sub/b.txt": (p, "blob", "v1", "sub/b.txt")})
    _upload(srv, tmp_path, p, "blob", "v3", {}, {"a.txt": (p, "blob", "v2", "a.txt"),
                                                 "deep/n.txt": (p, "blob", "v2", "n.txt")})
    _upload(srv, tmp_path, q, "other", "x1", {}, {"from-p.txt": (p, "blob", "v1", "sub/b.txt"),
                                                  "n.txt": (p, "blob", "v2", "n.txt")})
    usage_before = gc.fetch_usage(q, url=srv.url)

    def deps_of(**params: str) -> Any:
        return srv.req("GET", "/_selenite/dependents", user="admin", params=params)

    deps = deps_of(project=p, asset="blob", version="v1").json()
    assert deps == [
        {"project": p, "asset": "blob", "version": "v2", "paths": ["a.txt", "sub/b.txt"]},
        {"project": p, "asset": "blob", "version": "v3", "paths": ["a.txt"]},  # through its ancestor
        {"project": q, "asset": "other", "version": "x1", "paths": ["from-p.txt"]},
    ]
    assert deps_of(project=p, version="v1").status_code == 400
    assert srv.req("GET", "/_selenite/dependents", user="alice", params={"project": p}).status_code == 403

    # gypsum_client's own removal: the server materialises first.
    gc.remove_version(p, "blob", "v1", url=srv.url, token=srv.admin_token)
    m2 = _manifest(srv, p, "blob", "v2")
    assert m2["a.txt"] == {"size": len(a_bytes), "md5sum": hashlib.md5(a_bytes).hexdigest()}
    assert "link" not in m2["sub/b.txt"]
    assert _links(srv, f"{p}/blob/v2/..links") is None and _links(srv, f"{p}/blob/v2/sub/..links") is None
    assert "link" not in _manifest(srv, p, "blob", "v3")["a.txt"]
    assert _links(srv, f"{p}/blob/v3/..links") is None  # its only link there was a.txt
    assert _links(srv, f"{p}/blob/v3/deep/..links")["n.txt"]["version"] == "v2"  # untouched
    assert _downloaded(srv, tmp_path, p, "blob", "v2") == {"a.txt": a_bytes, "sub/b.txt": b_bytes, "n.txt": n_bytes}
    assert _downloaded(srv, tmp_path, p, "blob", "v3") == {"a.txt": a_bytes, "deep/n.txt": n_bytes}
    assert _downloaded(srv, tmp_path, q, "other", "x1") == {"from-p.txt": b_bytes, "n.txt": n_bytes}
    # Copied bytes count where they now live.
    assert gc.fetch_usage(q, url=srv.url) == usage_before + len(b_bytes)

    # A link whose original survives is pointed at it, no bytes copied: v5 -> v4 -> (ancestor) v3's a.txt.
    _upload(srv, tmp_path, p, "blob", "v4", {}, {"re.txt": (p, "blob", "v3", "a.txt")})
    _upload(srv, tmp_path, p, "blob", "v5", {}, {"re.txt": (p, "blob", "v4", "re.txt")})
    assert _manifest(srv, p, "blob", "v5")["re.txt"]["link"]["ancestor"]["version"] == "v3"
    r = srv.req("DELETE", f"/remove/{p}/blob/v4", user="admin")
    assert r.status_code == 200, r.text
    assert _manifest(srv, p, "blob", "v5")["re.txt"]["link"] == {
        "project": p, "asset": "blob", "version": "v3", "path": "a.txt"}
    assert _links(srv, f"{p}/blob/v5/..links") == {"re.txt": {"project": p, "asset": "blob", "version": "v3",
                                                              "path": "a.txt"}}

    # While the other project is locked (an upload in progress there), its versions cannot be
    # rewritten: the removal is refused (403) and changes nothing.
    init = gc.start_upload(q, "other", "x2", files=[], links=[], url=srv.url, token=srv.admin_token,
                           directory=str(tmp_path))
    r = srv.req("DELETE", f"/remove/{p}", user="admin")
    assert r.status_code == 403 and "locked" in r.json()["reason"]
    assert _manifest(srv, q, "other", "x1")["n.txt"]["link"]["project"] == p
    assert p in gc.list_projects(url=srv.url)
    gc.abort_upload(init, url=srv.url)

    # The whole project goes: the other project's version keeps everything.
    gc.remove_project(p, url=srv.url, token=srv.admin_token)
    assert _manifest(srv, q, "other", "x1")["n.txt"] == {"size": len(n_bytes),
                                                          "md5sum": hashlib.md5(n_bytes).hexdigest()}
    assert _links(srv, f"{q}/other/x1/..links") is None
    assert _downloaded(srv, tmp_path, q, "other", "x1") == {"from-p.txt": b_bytes, "n.txt": n_bytes}
    assert deps_of(project=q).json() == []
