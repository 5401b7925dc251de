"""Refusals: each with the right status, and nothing changed (nothing read or written outside the root)."""

from __future__ import annotations

import base64
import concurrent.futures
import hashlib
import http.client
import json
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urlparse

import pytest
import requests
from srvhelpers import Server, get_json, listing, put_files, q, serving, start, upload
from tests.support.files import md5
from tests.support.registry import BACKENDS


def raw_get(srv: Server, path: str) -> int:
    """A request whose path goes out byte for byte (requests would normalise dot segments)."""
    conn = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=10)
    try:
        conn.request("GET", path)
        return conn.getresponse().status
    finally:
        conn.close()


def test_identity_and_roles(srv: Server, project: str) -> None:
    r = start(srv, "alice", project, "a", "v1", {"x": b"x"})
    srv.req("POST", r.json()["abort_url"], token=r.json()["session_token"])
    no = srv.req("POST", f"/upload/start/{project}/a/v1", json={"files": []})
    assert (no.status_code, no.json()) == (401, {"status": "error", "reason": "no user identity supplied"})
    assert srv.req("POST", f"/upload/start/{project}/a/v1", json={"files": []},
                   headers={"Authorization": "Token abc"}).status_code == 401
    assert srv.req("POST", f"/upload/start/{project}/a/v1", token="sel_forged", json={"files": []}).status_code == 401
    wrong = start(srv, "eve", project, "a", "v1", {"x": b"x"})
    assert (wrong.status_code, wrong.json()["reason"]) == (403, "user is not authorized to upload")
    assert srv.req("DELETE", f"/unlock/{project}", user="alice").status_code == 403
    assert listing(srv, f"{project}/a/") == []


def test_token_created_while_running_works_at_once(srv: Server, project: str) -> None:
    tok = srv.token("newcomer")
    assert srv.req("PUT", f"/permissions/{project}", user="alice",
                   json={"uploaders": [{"id": "newcomer", "trusted": True}]}).status_code == 200
    r = srv.req("POST", f"/upload/start/{project}/a/v1", token=tok, json={"files": []})
    assert r.status_code == 200, r.text
    assert srv.req("POST", r.json()["complete_url"], token=r.json()["session_token"]).status_code == 200
    assert get_json(srv, f"{project}/a/v1/..summary")["upload_user_id"] == "newcomer"


def test_tokens_and_state_are_never_served(srv: Server) -> None:
    tok = srv.tokens["alice"]
    digest = hashlib.sha256(tok.encode()).hexdigest()
    assert all("tokens" not in k for k in listing(srv, ""))
    for path in (f"/file/tokens%2F{digest}", f"/file/..%2Fstate%2Ftokens%2F{digest}",
                 "/file/..%2Fstate%2Fupload-signing-secret"):
        status = raw_get(srv, path)
        assert 400 <= status < 500, path


def test_locked_project_and_existing_version(srv: Server, project: str) -> None:
    upload(srv, "alice", project, "a", "v1", {"x.txt": b"precious", "d/y.txt": b"also"})
    before = {k: srv.req("GET", f"/file/{q(k)}").content for k in listing(srv, f"{project}/")}
    r = start(srv, "alice", project, "a", "v1", {"x.txt": b"other"})
    assert (r.status_code, r.json()["reason"]) == (400, "project-asset-version already exists")
    after = {k: srv.req("GET", f"/file/{q(k)}").content for k in listing(srv, f"{project}/")}
    assert after == before  # quirk #1 fixed: nothing deleted, and the lock is released
    held = start(srv, "alice", project, "a", "v2", {"x.txt": b"2"}).json()
    r = start(srv, "bob", project, "b", "v1", {"z": b"z"})
    assert (r.status_code, r.json()["reason"]) == (403, "project asset has already been locked")
    assert srv.req("DELETE", f"/remove/{project}/a/v1", user="admin").status_code == 403  # admin ops wait too
    assert srv.req("POST", held["abort_url"], token=held["session_token"]).status_code == 200


def test_only_one_of_eight_racing_starts_gets_the_lock(srv: Server, project: str) -> None:
    def go(i: int) -> requests.Response:
        return start(srv, "alice", project, "a", f"v{i}", {"x": b"x"})

    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        results = list(pool.map(go, range(8)))
    codes = sorted(r.status_code for r in results)
    assert codes == [200] + [403] * 7, [r.text for r in results]
    winner = next(r for r in results if r.status_code == 200).json()
    assert srv.req("POST", winner["abort_url"], token=winner["session_token"]).status_code == 200


@pytest.mark.parametrize("path", [
    "/file/..%2F..%2Fetc%2Fpasswd", "/file/%2E%2E%2F%2E%2E%2Fetc%2Fpasswd", "/file/%2Fetc%2Fpasswd",
    "/file/a%2F..%2F..%2F..%2Fetc%2Fpasswd", "/file/a%5C..%5Cb", "/file/a%00b", "/list?prefix=..%2F..%2F",
    "/list?prefix=a%2F..%2F..%2F&recursive=true",
])
def test_traversal_reads_are_refused(srv: Server, path: str) -> None:
    assert 400 <= raw_get(srv, path) < 500


def test_traversal_in_uploads_is_refused(srv: Server, project: str, tmp_path: Path) -> None:
    for bad in ("../../../escaped-by-test_refusals.txt", "a/../../x", "a/./b"):
        r = start(srv, "alice", project, "a", "v1", {bad: b"x"})
        assert r.status_code == 400, bad
    for p, a, v in (("..", "a", "v"), (project, "%2E%2E", "v"), (project, "a", "..%2F..")):
        r = srv.req("POST", f"/upload/start/{p}/{a}/{v}", user="alice", json={"files": []})
        assert 400 <= r.status_code < 500
    # a slug naming a path the manifest does not hold (here: one that climbs out) gets no URL
    init = start(srv, "alice", project, "a", "v1", {"ok.txt": b"ok"}).json()
    for bad_path in ("../../../../escaped-by-test_refusals.txt", "other.txt"):
        slug = base64.b64encode(json.dumps([project, "a", "v1", bad_path, md5(b"x")]).encode()).decode()
        r = srv.req("POST", "/upload/presigned-file/" + slug, token=init["session_token"])
        assert r.status_code == 400, r.text
    # a signed URL whose key is changed fails the signature; nothing is written anywhere
    pre = srv.req("POST", init["file_urls"][0]["url"], token=init["session_token"]).json()
    parts = urlparse(pre["url"])
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    for key in (f"{project}/a/v1/../../../../escaped-by-test_refusals.txt", f"{project}/a/v1/evil.txt"):
        forged = f"{parts.scheme}://{parts.netloc}{parts.path}?{urlencode({**query, 'key': key})}"
        r = requests.put(forged, data=b"ok", headers={"Content-MD5": pre["md5sum_base64"]}, timeout=10)
        assert r.status_code == 403, r.text
    assert srv.req("POST", init["abort_url"], token=init["session_token"]).status_code == 200
    if srv.backend == "folder":  # a name no other test writes: the search below spans their folders too
        escaped = "escaped-by-test_refusals.txt"
        assert not (srv.root / escaped).exists() and not (srv.root.parent / escaped).exists()
        assert not list(srv.root.parent.glob(f"**/{escaped}")) and not list(srv.root.glob("**/evil.txt"))


def test_put_with_wrong_bytes_or_forged_url(srv: Server, project: str) -> None:
    # The folder backend's URL is the server's own (JSON errors, `sig`/`expires` in the query);
    # the S3 one is a SigV4 presigned URL that the object store itself checks (XML errors).
    s3 = srv.backend == "s3"
    sig, expires = ("X-Amz-Signature=", "X-Amz-Expires=") if s3 else ("sig=", "expires=")
    init = start(srv, "alice", project, "a", "v1", {"x.txt": b"right"}).json()
    pre = srv.req("POST", init["file_urls"][0]["url"], token=init["session_token"]).json()
    md5_header = {"Content-MD5": pre["md5sum_base64"]}
    r = requests.put(pre["url"], data=b"wrong", headers=md5_header, timeout=10)
    assert r.status_code == 400 and ("BadDigest" in r.text if s3 else r.json()["status"] == "error")
    assert srv.req("HEAD", f"/file/{q(project + '/a/v1/x.txt')}").status_code == 404  # nothing stored
    lying = base64.b64encode(hashlib.md5(b"wrong").digest()).decode()
    r = requests.put(pre["url"], data=b"wrong", headers={"Content-MD5": lying}, timeout=10)
    assert r.status_code == (403 if s3 else 400)  # Content-MD5 must be the signed one
    signed = md5_header if s3 else {}  # S3 signs the header, so it must be sent; ours is optional
    tampered = pre["url"].replace(sig, sig + "0")
    assert requests.put(tampered, data=b"right", headers=signed, timeout=10).status_code == 403
    later = pre["url"].replace(expires, expires + "9")
    assert requests.put(later, data=b"right", headers=signed, timeout=10).status_code == 403
    assert srv.req("HEAD", f"/file/{q(project + '/a/v1/x.txt')}").status_code == 404
    # the genuine one works
    assert requests.put(pre["url"], data=b"right", headers=signed, timeout=10).status_code == 200
    assert srv.req("POST", init["complete_url"], token=init["session_token"]).status_code == 200
    r = requests.put(pre["url"], data=b"wrong", headers=md5_header, timeout=10)
    if s3:
        # The store cannot know the session ended: until it expires the URL can only ever write
        # the very bytes it was signed for, so the finished version still cannot change.
        assert r.status_code == 400 and "BadDigest" in r.text
    else:
        # once complete, the session's URL no longer opens the (now immutable) version
        r = requests.put(pre["url"], data=b"right", headers=md5_header, timeout=10)
        assert r.status_code == 403
    assert srv.req("GET", f"/file/{q(project + '/a/v1/x.txt')}").content == b"right"


def test_expired_upload_url_is_refused(srv: Server, project: str) -> None:
    if srv.backend != "folder":
        pytest.skip("signs a URL with the folder backend's own secret")
    from selenite.server import signing

    init = start(srv, "alice", project, "a", "v1", {"x.txt": b"right"}).json()
    pre = srv.req("POST", init["file_urls"][0]["url"], token=init["session_token"]).json()
    query = {k: v[0] for k, v in parse_qs(urlparse(pre["url"]).query).items()}
    secret = (srv.root / "state" / "upload-signing-secret").read_bytes()
    stale = signing.signed_upload_url(secret, srv.url, query["key"], query["md5"], 5, -10, query["lock"])
    r = requests.put(stale, data=b"right", timeout=10)
    assert r.status_code == 403 and "expired" in r.json()["reason"]
    assert srv.req("POST", init["abort_url"], token=init["session_token"]).status_code == 200


@pytest.fixture(scope="module", params=BACKENDS)
def short_lock_srv(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with serving(request.param, tmp_path_factory.mktemp("registry-ttl"), ["--lock-ttl", "1.5"]) as server:
        yield server


def test_abandoned_lock_expires_and_its_partial_version_is_removed(short_lock_srv: Server) -> None:
    srv = short_lock_srv
    assert srv.req("POST", "/create/ttl", user="admin", json={"permissions": {"owners": ["alice"]}}).status_code == 200
    upload(srv, "alice", "ttl", "a", "v0", {"keep.txt": b"finished"})
    files = {"one.txt": b"1", "two.txt": b"22"}
    init = start(srv, "alice", "ttl", "a", "v1", files).json()
    put_files(srv, {**init, "file_urls": init["file_urls"][:1]}, files)  # half the upload, then "crash"
    pre = srv.req("POST", init["file_urls"][1]["url"], token=init["session_token"]).json()
    assert start(srv, "alice", "ttl", "a", "v2", {}).status_code == 403  # still held
    time.sleep(2.0)
    # the dead session can do nothing more
    r = srv.req("POST", init["file_urls"][1]["url"], token=init["session_token"])
    assert r.status_code == 403 and "expired" in r.json()["reason"]
    assert srv.req("POST", init["complete_url"], token=init["session_token"]).status_code == 403
    assert requests.put(pre["url"], data=b"22", timeout=10).status_code == 403
    # the next lock attempt takes over and cleans up the partial version, never a finished one
    again = start(srv, "alice", "ttl", "b", "v1", {})
    assert again.status_code == 200, again.text
    assert listing(srv, "ttl/a/v1/") == []
    assert listing(srv, "ttl/a/v0/") == ["ttl/a/v0/..manifest", "ttl/a/v0/..summary", "ttl/a/v0/keep.txt"]
    assert srv.req("POST", again.json()["complete_url"], token=again.json()["session_token"]).status_code == 200
    # the same version can now be uploaded again from scratch
    upload(srv, "alice", "ttl", "a", "v1", files)
    assert get_json(srv, "ttl/a/..latest") == {"version": "v1"}


# --- what a Git working tree or tag cannot hold is refused at upload/start (docs/operate/compat.md) ------

_DOT_GIT = [".git", ".GIT", ".Git", ".git.", ".git ", ".git. .", ".git:stream", "git~1", "GIT~2", ".g\u200cit",
            "\ufeff.git"]
_CONTROL = ["\x1b[31mred", "cr\rlf", "tab\tx", "del\x7f", "c1\x85", "csi\x9b2K"]


def _refused(srv: Server, project: str, a: str, v: str, files: dict[str, bytes]) -> str:
    r = start(srv, "alice", project, a, v, files)
    assert r.status_code == 400, (a, v, list(files), r.text)
    assert srv.req("GET", f"/file/{q(project + '/..LOCK')}").status_code == 404  # nothing held
    return str(r.json()["reason"])


def test_paths_git_cannot_check_out_are_refused(srv: Server, project: str) -> None:
    for comp in _DOT_GIT:
        for path in (comp, f"{comp}/config", f"sub/{comp}/hooks/post-checkout"):
            assert "'.git' component" in _refused(srv, project, "a", "v1", {path: b"x"})
    for path in _CONTROL:
        assert "control characters" in _refused(srv, project, "a", "v1", {f"d/{path}.csv": b"x"})
    # a file that is also a folder could never be stored nor checked out (and links count too)
    assert "both 'x' and 'x/y'" in _refused(srv, project, "a", "v1", {"x": b"1", "x/y": b"2"})
    assert "both 'd/x' and 'd/x/y/z'" in _refused(srv, project, "a", "v1", {"d/x/y/z": b"1", "d/x": b"2"})
    upload(srv, "alice", project, "a", "v0", {"t.txt": b"t"})
    link = {"path": "t", "link": {"project": project, "asset": "a", "version": "v0", "path": "t.txt"}}
    r = start(srv, "alice", project, "a", "v1", {"t/u": b"1"}, links=[link])
    assert r.status_code == 400 and "both 't' and 't/u'" in r.json()["reason"]
    # gypsum_client sends a space as '+': a version holding both spellings would be ambiguous
    assert "cannot tell apart" in _refused(srv, project, "a", "v1", {"d/a+b.txt": b"1", "d/a b.txt": b"2"})
    # near misses are ordinary names
    fine = {".github/ci.yml": b"1", ".gitignore": b"2", "git~5": b"3", "my.git/x": b"4", "xy": b"5", "x/yz": b"6"}
    upload(srv, "alice", project, "a", "v1", fine)
    assert srv.req("GET", f"/file/{q(project + '/a/v1/.github/ci.yml')}").content == b"1"


def test_names_git_cannot_tag_are_refused(srv: Server, project: str, tmp_path: Path) -> None:
    import subprocess

    bad = ["-x", "--file=data.csv", "a b", "x.lock", ".hidden", "end.", "a..b", "a@{1}", "a~1", "a^", "a:b",
           "a?", "a*", "a[b", "esc\x1b", "c1\x85", "del\x7f"]
    good = ["v1", "v1.0-rc", "a#b", "v%1+", "a@b", "ünï", "x-", "HEADS", "my_HEADx"]
    # git takes these as tags, but a tag HEAD or FETCH_HEAD is ambiguous, and invisible characters
    # make two names print the same
    ambiguous = ["@", "HEAD", "FETCH_HEAD", "v1\u200b", "v1\u202e"]
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)

    def git_ok(name: str) -> bool:
        return subprocess.run(["git", "-C", str(tmp_path), "check-ref-format", f"refs/tags/{name}"]).returncode == 0

    for name in bad:
        # our rule is git's, plus a leading '-' (an option to `git tag`) and C1 controls
        assert not git_ok(name) or name.startswith("-") or "\x85" in name, name
        for a, v in (("a", name), (name, "v1")):
            r = srv.req("POST", f"/upload/start/{q(project)}/{q(a)}/{q(v)}", user="alice", json={"files": []})
            assert r.status_code == 400 and "name cannot" in r.json()["reason"], (a, v, r.text)
    for name in ambiguous:
        r = srv.req("POST", f"/upload/start/{q(project)}/a/{q(name)}", user="alice", json={"files": []})
        assert r.status_code == 400 and "name cannot" in r.json()["reason"], (name, r.text)
    for name in good:
        assert git_ok(name), name
        upload(srv, "alice", project, name, name, {"x.txt": b"x"})
        assert srv.req("GET", f"/file/{q(f'{project}/{name}/{name}/x.txt')}").content == b"x"
