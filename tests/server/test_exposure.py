"""What the server shows the world: no internals in errors, bounded listings, its public URL."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from srvhelpers import Server, q, start, start_server
from tests.support.files import md5

PUBLIC = "https://registry.example.org/reg"  # as if behind a TLS proxy that maps /reg/ to the server
MAX_LIST = 8


@pytest.fixture(scope="module")
def folder_srv(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    args = ["--max-list-entries", str(MAX_LIST), "--public-url", PUBLIC]
    server = start_server("folder", tmp_path_factory.mktemp("registry-exposure"), args)
    try:
        yield server
    finally:
        server.stop()


def _create(srv: Server, name: str) -> None:
    body = {"permissions": {"owners": ["alice"]}}
    assert srv.req("POST", f"/create/{name}", user="admin", json=body).status_code == 200


def test_a_crash_answers_a_request_id_and_logs_the_detail(folder_srv: Server) -> None:
    srv = folder_srv
    _create(srv, "crashy")
    # A file planted where the asset's folder must go: writing the version fails with an OSError
    # naming absolute server paths.
    srv.put_raw("crashy/a", b"not a folder")
    r = start(srv, "alice", "crashy", "a", "v1", {"x": b"x"})
    assert r.status_code == 500
    reason = r.json()["reason"]
    assert str(srv.root) not in reason and "Errno" not in reason
    m = re.fullmatch(r"internal server error \(request id ([0-9a-f]{16}); details are in the server's log\)", reason)
    assert m, reason
    log = srv.log.read_text()
    line = next(ln for ln in log.splitlines() if m.group(1) in ln)
    assert "POST /upload/start/crashy/a/v1" in line
    assert str(srv.root) in log.split(m.group(1), 1)[1]  # the detail, after the id, for the operator


def _upload_through_the_proxy(srv: Server, p: str, a: str, v: str, files: dict[str, bytes]) -> None:
    r = start(srv, "alice", p, a, v, files)
    assert r.status_code == 200, r.text
    init = r.json()
    for fu in init["file_urls"]:
        pre = srv.req("POST", fu["url"], token=init["session_token"]).json()
        # The upload URL names the public address; the "proxy" passes /reg/... on to the server.
        assert pre["url"].startswith(f"{PUBLIC}/_selenite/upload?"), pre["url"]
        local = srv.url + pre["url"][len(PUBLIC):]
        r = requests.put(local, data=files[fu["path"]], headers={"Content-MD5": pre["md5sum_base64"]}, timeout=30)
        assert r.status_code == 200, r.text
    assert srv.req("POST", init["complete_url"], token=init["session_token"]).status_code == 200


def test_public_url_is_where_upload_urls_and_redirects_point(folder_srv: Server) -> None:
    srv = folder_srv
    _create(srv, "pub")
    _upload_through_the_proxy(srv, "pub", "a", "v1", {"x.txt": b"x"})
    assert srv.req("GET", f"/file/{q('pub/a/v1/x.txt')}").content == b"x"
    r = srv.req("GET", "//list", params={"prefix": "pub/"})
    assert (r.status_code, r.headers["Location"]) == (301, f"{PUBLIC}/list?prefix=pub%2F")


def test_listings_are_capped(folder_srv: Server) -> None:
    srv = folder_srv
    _create(srv, "lp")
    files = {f"f{i}.csv": f"{i}".encode() for i in range(MAX_LIST - 2)}  # + ..summary + ..manifest = the cap
    _upload_through_the_proxy(srv, "lp", "a", "v1", files)
    exact = srv.req("GET", "/list", params={"prefix": "lp/a/v1/", "recursive": "true"})
    assert exact.status_code == 200 and len(exact.json()) == MAX_LIST
    assert len(srv.req("GET", "/list", params={"prefix": "lp/a/v1/"}).json()) == MAX_LIST
    r = srv.req("GET", "/list", params={"prefix": "lp/", "recursive": "true"})
    why = f"more than {MAX_LIST} keys under prefix 'lp/'; list a narrower prefix"
    assert (r.status_code, r.json()["reason"]) == (400, why)
    assert srv.req("GET", "/list", params={"recursive": "true"}).status_code == 400
    listed = srv.req("GET", "/list", params={"prefix": "lp/"}).json()
    assert listed == ["lp/a/", "lp/..permissions", "lp/..quota", "lp/..usage"]
    assert md5(b"0") == srv.req("HEAD", f"/file/{q('lp/a/v1/f0.csv')}").headers["ETag"].strip('"')


@pytest.mark.s3
def test_s3_upload_urls_point_at_the_store_whatever_the_public_url(tmp_path: Path) -> None:
    srv = start_server("s3", tmp_path / "registry", ["--public-url", PUBLIC])
    try:
        _create(srv, "s3p")
        init = start(srv, "alice", "s3p", "a", "v1", {"x": b"x"}).json()
        pre = srv.req("POST", init["file_urls"][0]["url"], token=init["session_token"]).json()
        assert pre["url"].startswith(srv.s3_endpoint + "/"), pre["url"]
        r = requests.put(pre["url"], data=b"x", headers={"Content-MD5": pre["md5sum_base64"]}, timeout=30)
        assert r.status_code == 200, r.text
        assert srv.req("POST", init["complete_url"], token=init["session_token"]).status_code == 200
    finally:
        srv.stop()
