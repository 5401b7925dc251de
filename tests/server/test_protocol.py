"""The gypsum protocol over raw HTTP against a real `selenite serve` process."""

from __future__ import annotations

import base64
import hashlib
import http.client

import pytest
from srvhelpers import Server, get_json, listing, put_files, q, start, upload, worker_slug
from tests.support.files import md5


def test_file_headers_and_misses(srv: Server, project: str) -> None:
    upload(srv, "alice", project, "a", "v1", {"x.txt": b"hello", "a+b.txt": b"plus"})
    r = srv.req("GET", f"/file/{q(project + '/a/v1/x.txt')}")
    assert r.status_code == 200 and r.content == b"hello"
    assert r.headers["ETag"] == f'"{md5(b"hello")}"'
    assert r.headers["Content-Length"] == "5" and r.headers["Last-Modified"].endswith("GMT")
    assert r.headers["Access-Control-Allow-Origin"] == "*"
    h = srv.req("HEAD", f"/file/{q(project + '/a/v1/x.txt')}")
    assert h.status_code == 200 and h.headers["Content-Length"] == "5" and h.content == b""
    s = srv.req("GET", f"/file/{q(project + '/a/v1/..summary')}")
    assert s.headers["Content-Type"] == "application/json"
    # '+' is a literal plus, never a space (decodeURIComponent semantics)
    assert srv.req("GET", f"/file/{project}%2Fa%2Fv1%2Fa+b.txt").content == b"plus"
    miss = srv.req("GET", f"/file/{q(project + '/a/v1/nope')}")
    assert miss.status_code == 404 and miss.json() == {"status": "error", "reason": "object not found"}
    assert srv.req("HEAD", f"/file/{q(project + '/nope')}").status_code == 404
    # an unencoded '/' is not a key: the worker answers "no such endpoint"
    r = srv.req("GET", f"/file/{project}/a/v1/x.txt")
    assert r.status_code == 404 and r.json()["reason"] == "no such endpoint"
    conn = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=10)  # requests would re-encode '%'
    conn.request("GET", "/file/%E0%A4%A")
    assert conn.getresponse().status == 400  # malformed escape: 4xx, not the worker's 500
    conn.close()


def test_list_semantics(srv: Server, project: str) -> None:
    upload(srv, "alice", project, "blob", "v1", {"a.txt": b"a", "d/b.txt": b"b"})
    assert listing(srv, f"{project}/", recursive=False) == [
        f"{project}/blob/", f"{project}/..permissions", f"{project}/..quota", f"{project}/..usage"]
    assert listing(srv, f"{project}/blob/v1", recursive=False) == [f"{project}/blob/v1/"]
    assert listing(srv, f"{project}/blob/") == [
        f"{project}/blob/..latest", f"{project}/blob/v1/..manifest", f"{project}/blob/v1/..summary",
        f"{project}/blob/v1/a.txt", f"{project}/blob/v1/d/b.txt"]
    top = srv.req("GET", "/list").json()
    assert f"{project}/" in top and all(k.endswith("/") for k in top)
    assert srv.req("GET", "/list", params={"prefix": f"{project}/blob/", "recursive": "1"}).json() == [
        f"{project}/blob/v1/", f"{project}/blob/..latest"]  # only exactly "true" is recursive


def test_http_conventions(srv: Server) -> None:
    r = srv.req("OPTIONS", "/upload/start/a/b/c")
    assert r.status_code == 200 and r.headers["Allow"] == "GET, HEAD, POST, OPTIONS"
    pre = {"Origin": "http://x", "Access-Control-Request-Method": "POST",
           "Access-Control-Request-Headers": "authorization"}
    r = srv.req("OPTIONS", "/anything", headers=pre)
    assert r.headers["Access-Control-Allow-Methods"] == "GET,HEAD,POST,OPTIONS"
    assert r.headers["Access-Control-Allow-Headers"] == "authorization"
    assert r.headers["Access-Control-Max-Age"] == "86400"
    r = srv.req("GET", "//list?prefix=x")
    assert r.status_code == 301 and r.headers["Location"].endswith("/list?prefix=x")
    r = srv.req("GET", "/")  # the registry browser's front page (test_browser.py), linking to /docs
    assert r.status_code == 200 and r.headers["Content-Type"].startswith("text/html") and 'href="/docs"' in r.text
    for method, path in (("GET", "/nope"), ("POST", "/list"), ("GET", "/create/x"), ("PATCH", "/file/x")):
        r = srv.req(method, path)
        assert (r.status_code, r.json()) == (404, {"status": "error", "reason": "no such endpoint"}), (method, path)
    assert srv.req("GET", "/list/").status_code == 200  # trailing slash tolerated


def test_openapi_describes_every_route(srv: Server) -> None:
    spec = srv.req("GET", "/openapi.json").json()
    paths = spec["paths"]
    expected = {
        "/file/{key}": {"get", "head"}, "/list": {"get"}, "/create/{project}": {"post"},
        "/remove/{project}": {"delete"}, "/remove/{project}/{asset}": {"delete"},
        "/remove/{project}/{asset}/{version}": {"delete"}, "/upload/start/{project}/{asset}/{version}": {"post"},
        "/upload/presigned-file/{slug}": {"post"}, "/upload/complete/{project}/{asset}/{version}": {"post"},
        "/upload/abort/{project}/{asset}/{version}": {"post"}, "/permissions/{project}": {"put"},
        "/quota/{project}": {"put"}, "/probation/approve/{project}/{asset}/{version}": {"post"},
        "/probation/reject/{project}/{asset}/{version}": {"post"}, "/refresh/latest/{project}/{asset}": {"post"},
        "/refresh/usage/{project}": {"post"}, "/unlock/{project}": {"delete"}, "/_selenite/stats": {"get"},
        "/_selenite/upload": {"put"}, "/_selenite/upload-batch/{project}/{asset}/{version}": {"post"},
    }
    for path, methods in expected.items():
        assert path in paths, path
        for m in methods:
            op = paths[path][m]
            assert op.get("summary"), (path, m)
            for param in op.get("parameters", []):
                assert param.get("description"), (path, m, param["name"])
    assert srv.req("GET", "/docs").status_code == 200


def test_stats_count_requests_and_bytes(srv: Server, project: str) -> None:
    upload(srv, "alice", project, "a", "v1", {"x.bin": b"z" * 1000})
    before = srv.stats()
    srv.req("GET", f"/file/{q(project + '/a/v1/x.bin')}")
    srv.req("HEAD", f"/file/{q(project + '/a/v1/x.bin')}")
    srv.req("GET", "/list")
    after = srv.stats()
    assert after["file_get"] - before["file_get"] == 1
    assert after["file_get_bytes"] - before["file_get_bytes"] == 1000
    assert after["file_head"] - before["file_head"] == 1 and after["list"] - before["list"] == 1
    assert after["requests"] - before["requests"] >= 3
    if srv.backend == "s3":  # presigned PUTs go straight to the object store, never through us
        assert before["upload_put"] == 0 and before["upload_put_bytes"] == 0
    else:
        assert before["upload_put"] >= 1 and before["upload_put_bytes"] >= 1000


def test_create_validates_and_refuses(srv: Server, project: str) -> None:
    for bad in ("..weird", "a%5Cb", "%2E", "a%2Fb"):
        r = srv.req("POST", f"/create/{bad}", user="admin", json={})
        assert r.status_code == 400, bad
    assert srv.req("DELETE", "/remove/a%2Fb", user="admin").status_code == 400  # names checked everywhere
    r = srv.req("POST", f"/create/{project}", user="admin", json={})
    assert (r.status_code, r.json()["reason"]) == (400, f"project '{project}' already exists")
    assert srv.req("POST", "/create/fresh-x", user="admin", data=b"").status_code == 400  # empty body: parse error
    assert srv.req("POST", "/create/fresh-x", user="alice", json={}).json()["reason"] == "user is not an administrator"
    assert srv.req("POST", "/create/fresh-x", json={}).status_code == 401
    assert srv.req("POST", "/create/fresh-x", token="sel_nonsense", json={}).status_code == 401
    r = srv.req("POST", "/create/fresh-q", user="admin", json={"quota": {"baseline": 1e11, "growth_rate": 0}})
    assert r.status_code == 200 and r.content == b"" and "content-type" not in r.headers
    q_ = get_json(srv, "fresh-q/..quota")
    assert q_["baseline"] == 1e11 and q_["growth_rate"] == 0 and isinstance(q_["year"], int)
    assert get_json(srv, "fresh-q/..permissions") == {"owners": [], "uploaders": []}
    assert get_json(srv, "fresh-q/..usage") == {"total": 0}
    assert srv.req("DELETE", "/remove/fresh-q", user="admin").status_code == 200


def test_permissions_and_quota_updates(srv: Server, project: str) -> None:
    r = srv.req("PUT", f"/permissions/{project}", user="alice", json={"uploaders": [{"id": "dave", "asset": 5}]})
    assert r.status_code == 400 and r.json()["reason"] == "expected 'asset' property to be a string"  # was a 200 quirk
    assert srv.req("PUT", f"/permissions/{project}", user="bob", json={"owners": ["bob"]}).status_code == 403
    assert srv.req("PUT", "/permissions/no-such-project", user="admin", json={}).status_code == 404
    r = srv.req("PUT", f"/permissions/{project}", user="alice", json={"owners": ["alice", "bob"], "extra": 1})
    assert r.status_code == 200
    perms = get_json(srv, f"{project}/..permissions")
    assert perms["owners"] == ["alice", "bob"] and "extra" not in perms and len(perms["uploaders"]) == 2
    assert srv.req("PUT", f"/quota/{project}", user="alice", json={"baseline": 5}).status_code == 403
    assert srv.req("PUT", f"/quota/{project}", user="admin", json={"baseline": -1}).status_code == 400
    assert srv.req("PUT", "/quota/no-such-project", user="admin", json={}).json()["reason"] == "project does not exist"
    assert srv.req("PUT", f"/quota/{project}", user="admin", json={"baseline": 10, "growth_rate": 0}).status_code == 200
    # quota rule is '>=': landing exactly on it is refused
    r = start(srv, "alice", project, "a", "v1", {"ten.bin": b"0123456789"})
    assert (r.status_code, r.json()["reason"]) == (400, "upload exceeds the storage quota for this project")
    upload(srv, "alice", project, "a", "v1", {"nine.bin": b"012345678"})
    assert get_json(srv, f"{project}/..usage") == {"total": 9}


@pytest.mark.parametrize(
    ("path", "reason"),
    [
        ("/lead", "'files.path' cannot start or end with '/'"),
        ("a//b", "'files.path' cannot contain repeated '/'"),
        ("a\\b", "'files.path' cannot contain '\\'"),
        ("a/..b", "components of 'files.path' cannot start with '..'"),
        ("a/./b", "'files.path' cannot contain '.' components or NUL"),
        ("", "'files.path' cannot be empty"),
    ],
)
def test_file_path_errors_are_400(srv: Server, project: str, path: str, reason: str) -> None:
    r = start(srv, "alice", project, "a", "v1", {path: b"x"})
    assert (r.status_code, r.json()) == (400, {"status": "error", "reason": reason})
    assert srv.req("GET", f"/file/{q(project + '/..LOCK')}").status_code == 404  # lock released
    assert listing(srv, f"{project}/a/") == []


def test_links_ancestors_dedup_and_links_files(srv: Server, project: str) -> None:
    upload(srv, "alice", project, "a", "v1", {"x.txt": b"x", "d/y.txt": b"yy"})
    upload(srv, "alice", project, "a", "v2", links=[
        {"path": "sub/x2.txt", "link": {"project": project, "asset": "a", "version": "v1", "path": "x.txt"}}])
    init = upload(srv, "alice", project, "a", "v3", files={"d/y.txt": b"x", "new.txt": b"n"}, dedup=True, links=[
        {"path": "x3.txt", "link": {"project": project, "asset": "a", "version": "v2", "path": "sub/x2.txt"}}])
    assert [f["path"] for f in init["file_urls"]] == ["new.txt"]  # the dedup hit became a link
    man = get_json(srv, f"{project}/a/v3/..manifest")
    assert list(man) == ["new.txt", "x3.txt", "d/y.txt"]
    assert man["x3.txt"]["link"]["ancestor"] == {"project": project, "asset": "a", "version": "v1", "path": "x.txt"}
    assert man["x3.txt"]["size"] == 1 and man["x3.txt"]["md5sum"] == md5(b"x")
    # dedup compares with the latest version (v2) only, and its hit gains the ancestor too
    assert man["d/y.txt"]["link"] == {"project": project, "asset": "a", "version": "v2", "path": "sub/x2.txt",
                                      "ancestor": {"project": project, "asset": "a", "version": "v1", "path": "x.txt"}}
    assert get_json(srv, f"{project}/a/v3/..links") == {"x3.txt": man["x3.txt"]["link"]}
    assert set(get_json(srv, f"{project}/a/v3/d/..links")) == {"y.txt"}
    assert srv.req("GET", f"/file/{q(project + '/a/v3/x3.txt')}").status_code == 404  # links hold no object
    assert get_json(srv, f"{project}/..usage") == {"total": 4}  # only real bytes count
    # link errors
    for link, reason in (
        ({"project": project, "asset": "a", "version": "v9", "path": "x.txt"}, "cannot find version summary"),
        ({"project": project, "asset": "a", "version": "v1", "path": "nope"}, "failed to link"),
        ({"project": project, "asset": "a", "version": "v4", "path": "x.txt"}, "detected circular link"),
        ({"project": "..", "asset": "..", "version": "..", "path": "../../etc/passwd"}, "cannot find version summary"),
    ):
        r = start(srv, "alice", project, "a", "v4", links=[{"path": "l.txt", "link": link}])
        assert r.status_code == 400 and r.json()["reason"].startswith(reason), r.text


def test_complete_checks_and_abort(srv: Server, project: str) -> None:
    init = start(srv, "alice", project, "a", "v1", {"x.txt": b"x", "y.txt": b"yy"}).json()
    tok = init["session_token"]
    r = srv.req("POST", init["complete_url"], token=tok)
    assert (r.status_code, r.json()["reason"]) == (400, "path 'x.txt' in manifest should have a file")
    assert srv.req("GET", f"/file/{q(project + '/..LOCK')}").status_code == 200  # lock kept: finish and retry
    reason = srv.req("POST", init["complete_url"], token="not-a-uuid").json()["reason"]
    assert reason == "session token does not look like a v4 UUID"
    other = "12345678-1234-4234-8234-123456789abc"
    reason = srv.req("POST", init["complete_url"], token=other).json()["reason"]
    assert reason == "project was locked for a different upload session"
    assert srv.req("POST", f"/upload/complete/{project}/a/v2", token=tok).json()["reason"] == \
        "project was locked for upload of a different version"
    assert srv.req("POST", init["abort_url"], token=tok).status_code == 200
    assert listing(srv, f"{project}/a/") == []
    r = srv.req("POST", init["abort_url"], token=tok)
    assert (r.status_code, r.json()["reason"]) == (403, "project has not been previously locked for upload")


def test_probation_flow(srv: Server, project: str) -> None:
    upload(srv, "alice", project, "a", "v1", {"x.txt": b"1"})
    upload(srv, "carol", project, "a", "v2", {"x.txt": b"2"})  # untrusted: forced onto probation
    assert get_json(srv, f"{project}/a/v2/..summary")["on_probation"] is True
    assert get_json(srv, f"{project}/a/..latest") == {"version": "v1"}
    r = start(srv, "alice", project, "a", "v3", links=[
        {"path": "l", "link": {"project": project, "asset": "a", "version": "v2", "path": "x.txt"}}])
    assert r.json()["reason"].startswith("cannot refer to probational version")
    assert srv.req("POST", f"/probation/approve/{project}/a/v2", user="carol").status_code == 403
    assert srv.req("POST", f"/probation/approve/{project}/a/v2", user="alice").status_code == 200
    assert "on_probation" not in get_json(srv, f"{project}/a/v2/..summary")
    assert get_json(srv, f"{project}/a/..latest") == {"version": "v2"}
    r = srv.req("POST", f"/probation/approve/{project}/a/v2", user="alice")
    assert r.json()["reason"] == "cannot approve probation for non-probational version"
    upload(srv, "carol", project, "a", "v3", {"x.txt": b"333"})
    r = srv.req("POST", f"/probation/reject/{project}/a/v3", user="bob")  # an uploader, but not the one
    assert (r.status_code, r.json()["reason"]) == (400, "cannot reject probation for different user")
    assert get_json(srv, f"{project}/..usage") == {"total": 5}
    assert srv.req("POST", f"/probation/reject/{project}/a/v3", user="carol").status_code == 200
    assert listing(srv, f"{project}/a/v3/") == []
    assert get_json(srv, f"{project}/..usage") == {"total": 2}
    reason = srv.req("POST", f"/probation/reject/{project}/a/v3", user="alice").json()["reason"]
    assert reason == "version does not exist"


def test_uploader_first_match_quirk(srv: Server, project: str) -> None:
    perms = {"uploaders": [{"id": "bob", "asset": "other"}, {"id": "bob"},
                           {"id": "carol", "until": "2001-01-01T00:00:00Z"}]}
    assert srv.req("PUT", f"/permissions/{project}", user="alice", json=perms).status_code == 200
    assert start(srv, "bob", project, "blob", "v1", {"x": b"x"}).json()["reason"] == "user is not authorized to upload"
    assert start(srv, "carol", project, "blob", "v1", {"x": b"x"}).status_code == 403  # grant expired
    assert start(srv, "eve", project, "blob", "v1", {"x": b"x"}).status_code == 403
    r = start(srv, "bob", project, "other", "v1", {"x": b"x"})
    assert r.status_code == 200
    assert srv.req("POST", r.json()["abort_url"], token=r.json()["session_token"]).status_code == 200


def test_remove_refresh_and_logs(srv: Server, project: str) -> None:
    upload(srv, "alice", project, "a", "v1", {"x": b"1"})
    upload(srv, "alice", project, "a", "v2", {"x": b"22"})
    # an unfinished version (its lock dropped by an admin) must never become the latest (quirk #4)
    init = start(srv, "alice", project, "a", "aaa", {"x": b"3"}).json()
    assert srv.req("DELETE", f"/unlock/{project}", user="admin").status_code == 200
    assert srv.req("POST", f"/refresh/latest/{project}/a", user="admin").json() == {"version": "v2"}
    assert srv.req("DELETE", f"/remove/{project}/a/aaa", user="admin").status_code == 200
    assert init["session_token"]
    logs_before = set(listing(srv, "..logs/"))
    assert srv.req("DELETE", f"/remove/{project}/a/v2", user="admin").status_code == 200
    assert get_json(srv, f"{project}/a/..latest") == {"version": "v1"}
    assert get_json(srv, f"{project}/..usage") == {"total": 1}
    new_logs = [get_json(srv, k) for k in set(listing(srv, "..logs/")) - logs_before]
    assert {"type": "delete-version", "project": project, "asset": "a", "version": "v2", "latest": True} in new_logs
    assert srv.req("POST", f"/refresh/usage/{project}", user="admin").json() == {"total": 1}
    assert srv.req("POST", f"/refresh/usage/{project}", user="alice").status_code == 403
    assert srv.req("POST", "/refresh/usage/no-such-project", user="admin").json()["reason"] == "project does not exist"
    assert srv.req("DELETE", f"/remove/{project}/a/v1", user="admin").status_code == 200
    assert srv.req("GET", f"/file/{q(project + '/a/..latest')}").status_code == 404
    assert srv.req("POST", f"/refresh/latest/{project}/a", user="admin").json() == {}
    # removals are idempotent, on a missing project too (the worker answers 500 there)
    for path in ("/remove/no-such-project/a", "/remove/no-such-project/a/v1", "/remove/no-such-project"):
        assert srv.req("DELETE", path, user="admin").status_code == 200, path
    assert srv.req("DELETE", f"/remove/{project}", user="alice").status_code == 403
    assert srv.req("DELETE", f"/remove/{project}", user="admin").status_code == 200
    assert listing(srv, f"{project}/") == []


def test_worker_slugs_with_slash_and_non_latin1_paths(srv: Server, project: str) -> None:
    data = b"question"
    # A path whose worker-style (standard base64) slug holds '/': the worker itself 404s on it.
    candidates = (f"{'x' * i}?.txt" for i in range(12))
    weird = next(p for p in candidates if "/" in worker_slug(project, "a", "v1", p, md5(data)))
    files = {weird: data, "ünï/ж文.txt": b"utf8"}
    init = start(srv, "alice", project, "a", "v1", files).json()
    assert all("/" not in f["url"][len("/upload/presigned-file/"):] for f in init["file_urls"])  # ours are URL-safe
    slug = worker_slug(project, "a", "v1", weird, md5(data))
    pre = srv.req("POST", "/upload/presigned-file/" + slug, token=init["session_token"])
    assert pre.status_code == 200, pre.text
    assert pre.json()["md5sum_base64"] == base64.b64encode(hashlib.md5(data).digest()).decode()
    bad = srv.req("POST", "/upload/presigned-file/not-base64!", token=init["session_token"])
    assert bad.status_code == 400 and bad.json()["reason"].startswith("invalid slug ('not-base64!')")
    put_files(srv, init, files)
    assert srv.req("POST", init["complete_url"], token=init["session_token"]).status_code == 200
    assert srv.req("GET", f"/file/{q(project + '/a/v1/ünï/ж文.txt')}").content == b"utf8"
    assert srv.req("GET", f"/file/{q(project + '/a/v1/' + weird)}").content == data


def test_names_with_hash_percent_and_plus(srv: Server, project: str) -> None:
    # (a space is not a valid Git tag, so upload/start refuses it: test_refusals.py)
    init = upload(srv, "alice", project, "a#b", "v%1+", {"x.txt": b"odd"})
    assert init["complete_url"] == f"/upload/complete/{project}/a%23b/v%251%2B"
    assert srv.req("GET", f"/file/{q(project + '/a#b/v%1+/x.txt')}").content == b"odd"
    assert listing(srv, f"{project}/a#b/", recursive=False) == [f"{project}/a#b/v%1+/", f"{project}/a#b/..latest"]
