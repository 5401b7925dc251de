"""The registry's web browser over plain HTTP, against one real `selenite serve` (folder storage:
the pages read through the Storage interface both backends share): escaping of hostile names,
pagination of a big folder, probational and unfinished versions, readable error pages. The
headless-Chromium walk through the same pages is tests/e2e/test_browser_chromium.py."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from srvhelpers import Server, q, serving, start, upload

from selenite.server.browse.render import PAGE_SIZE

EVIL = "<script>alert(1)</script>.txt"  # a folder '<script>alert(1)<' holding 'script>.txt'
BIG = 2 * PAGE_SIZE + 50


@pytest.fixture(scope="module")
def srv(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with serving("folder", tmp_path_factory.mktemp("registry")) as server:
        body = {"permissions": {"owners": ["alice"], "uploaders": [{"id": "carol"}]}}
        for project in ("web", "<b>x"):
            assert server.req("POST", f"/create/{q(project)}", user="admin", json=body).status_code == 200
        upload(server, "alice", "web", "data", "v1", {"a.csv": b"1,2\n", EVIL: b"boo", "sub/z.bin": b"z" * 2048,
                                                     "gone.txt": b"gone"})
        upload(server, "alice", "web", "data", "v2", {"a.csv": b"1,2,3\n", "sub/z.bin": b"z" * 2048,
                                                     "moved.txt": b"boo"},
               links=[{"path": "old/a.csv", "link": {"project": "web", "asset": "data", "version": "v1",
                                                     "path": "a.csv"}}])
        upload(server, "carol", "web", "data", "v3-proposed", {"a.csv": b"carol's"})  # untrusted: probation
        upload(server, "alice", "web", "big", "v1", {f"many/f{i:04d}.txt": b"x" for i in range(BIG)})
        upload(server, "alice", "<b>x", "<i>a", "<u>v", {"f.txt": b"f"})
        # last: it holds the project's lock
        assert start(server, "alice", "web", "data", "v4-uploading", {"n.txt": b"n"}).status_code == 200
        yield server


def _page(srv: Server, path: str, status: int = 200) -> str:
    r = requests.get(srv.url + path, timeout=30, allow_redirects=False)
    assert r.status_code == status, (path, r.status_code, r.text[:300])
    assert r.headers["Content-Type"].startswith("text/html"), path
    assert "script-src" not in r.headers["Content-Security-Policy"]  # default-src 'none': no script runs
    assert r.headers["Content-Security-Policy"].startswith("default-src 'none'")
    return r.text


def _text(page: str) -> str:
    """What a reader sees: tags dropped, entities decoded."""
    return html.unescape(re.sub(r"<[^>]+>", " ", page))


def test_projects_assets_versions_and_files(srv: Server) -> None:
    front = _page(srv, "/")
    assert 'href="/browse/web"' in front and 'href="/docs"' in front  # the API's docs stay a click away
    assert srv.req("GET", "/docs").status_code == 200
    assert "data" in _text(_page(srv, "/browse/web")) and 'href="/browse/web/big"' in _page(srv, "/browse/web")

    versions = _page(srv, "/browse/web/data")
    rows = re.findall(r"<tr[^>]*>(.*?)</tr>", versions, re.S)[1:]
    names = [m.group(1) for r in rows if (m := re.search(r'href="/browse/web/data/([^"]+)"', r))]
    assert names == ["v3-proposed", "v2", "v1"]  # newest first; the upload in progress is no version yet
    assert "latest" in _text(rows[1]) and "latest" not in _text(rows[0]) and "latest" not in _text(rows[2])
    # A probational version is public in the protocol (gypsum-api.md §3.8: readable like any other,
    # never the latest): shown, and marked.
    assert "probation" in _text(rows[0]) and "carol" in _text(rows[0]) and "probation" not in _text(rows[1])
    assert "alice" in _text(rows[1]) and "2.0 KiB" in _text(rows[1])
    assert '<select name="old">' in versions and 'action="/compare/web/data"' in versions

    files = _page(srv, "/browse/web/data/v2")
    assert "4 files" in _text(files)
    assert 'href="/browse/web/data/v2?dir=sub"' in files and 'href="/browse/web/data/v2?dir=old"' in files
    linked = _page(srv, "/browse/web/data/v2?dir=old")
    assert 'href="/browse/web/data/v1?file=a.csv"' in linked  # the link's target
    assert 'href="/file/web%2Fdata%2Fv1%2Fa.csv"' in linked  # its bytes are v1's
    detail = _page(srv, "/browse/web/data/v2?file=old%2Fa.csv")
    assert "web/data@v1/a.csv" in _text(detail) and "4 bytes" in _text(detail)
    assert requests.get(srv.url + "/file/web%2Fdata%2Fv1%2Fa.csv", timeout=10).content == b"1,2\n"
    assert srv.req("GET", "/_selenite/browse.css").headers["Content-Type"].startswith("text/css")


def test_the_diff_of_two_versions(srv: Server) -> None:
    diff = _page(srv, "/compare/web/data?old=v1&new=v2")
    changed = re.findall(r'<tr class="(\w+)"><td>.*?</td>\s*<td>(.*?)</td>\s*<td class="num">(.*?)</td>\s*'
                         r'<td class="num">(.*?)</td>', diff, re.S)
    seen = {(kind, " ".join(_text(path).split()), _text(a).strip(), _text(b).strip()) for kind, path, a, b in changed}
    assert seen == {
        ("added", "old/a.csv", "", "4 B"),  # a link is a file of the version like any other
        ("deleted", "gone.txt", "4 B", ""),
        ("modified", "a.csv", "4 B", "6 B"),
        ("renamed", f"{EVIL} → moved.txt", "3 B", "3 B"),  # same content, old path gone
    }
    assert "<script>" not in diff
    assert 'href="/browse/web/data/v1?file=gone.txt"' in diff and 'href="/browse/web/data/v2?file=moved.txt"' in diff
    assert "unchanged" in _text(diff) and '<option selected>v1</option>' in diff
    default = _page(srv, "/compare/web/data")  # the newest change: v2 -> v3-proposed
    assert "<option selected>v2</option>" in default and "<option selected>v3-proposed</option>" in default
    assert "same files" in _text(_page(srv, "/compare/web/data?old=v2&new=v2"))
    assert "no version 'web/data/v4-uploading'" in _text(_page(srv, "/compare/web/data?old=v4-uploading", 404))


def test_every_name_is_escaped(srv: Server) -> None:
    v1 = _page(srv, "/browse/web/data/v1?dir=" + q("<script>alert(1)<"))
    assert "<script>" not in v1 and "&lt;script&gt;alert(1)&lt;" in v1
    assert "script>.txt" in _text(v1)
    detail = _page(srv, "/browse/web/data/v1?file=" + q(EVIL))
    assert "<script>" not in detail and EVIL in _text(detail)
    assert 'download="script&gt;.txt"' in detail  # the name a browser saves it under, escaped too
    assert f'href="/file/{q("web/data/v1/" + EVIL)}"' in detail.replace("&#39;", "'")
    front = _page(srv, "/")
    assert "<b>x" not in front and "&lt;b&gt;x" in front
    assert 'href="/browse/%3Cb%3Ex"' in front  # one quoted segment
    for path in ("/browse/%3Cb%3Ex", "/browse/%3Cb%3Ex/%3Ci%3Ea", "/browse/%3Cb%3Ex/%3Ci%3Ea/%3Cu%3Ev"):
        page = _page(srv, path)
        assert not re.search(r"<(b|i|u)>", page), path


def test_a_big_folder_is_paged(srv: Server) -> None:
    first = _page(srv, "/browse/web/big/v1?dir=many")
    shown = re.findall(r"\?file=many%2F(f\d{4})\.txt", first)
    assert shown == [f"f{i:04d}" for i in range(PAGE_SIZE)] and "page 1 of 3" in first
    assert 'href="/browse/web/big/v1?dir=many&amp;page=2"' in first
    last = _page(srv, "/browse/web/big/v1?dir=many&page=3")
    assert re.findall(r"\?file=many%2F(f\d{4})\.txt", last) == [f"f{i:04d}" for i in range(2 * PAGE_SIZE, BIG)]
    assert "page 3 of 3" in last and "next" not in _text(last)
    assert "page 3 of 3" in _page(srv, "/browse/web/big/v1?dir=many&page=99")  # clamped, not an error
    assert "page 1 of 3" in _page(srv, "/browse/web/big/v1?dir=many&page=x")
    assert f"{BIG} files" in _text(_page(srv, "/browse/web/big/v1"))


@pytest.mark.parametrize(("path", "status", "says"), [
    ("/browse/nope", 404, "no project 'nope'"),
    ("/browse/web/nope", 404, "no asset 'web/nope'"),
    ("/browse/web/data/v9", 404, "no version 'web/data/v9'"),
    ("/browse/web/data/v4-uploading", 404, "no version 'web/data/v4-uploading'"),
    ("/browse/web/data/v1?file=missing.txt", 404, "no file 'missing.txt'"),
    ("/browse/web/data/v1?dir=nowhere", 404, "no folder 'nowhere'"),
    ("/browse/web/..x", 400, "cannot start with '..'"),
    ("/browse/web/data/%FF", 400, "URI malformed"),
])
def test_errors_are_readable_pages(srv: Server, path: str, status: int, says: str) -> None:
    assert says in _text(_page(srv, path, status))


def test_templates_ship_with_the_package() -> None:
    from selenite.server import browse

    folder = Path(browse.__file__).parent
    assert {p.name for p in (folder / "templates").glob("*.html")} >= {"base.html", "files.html", "error.html"}
    pyproject = (Path(__file__).parents[2] / "pyproject.toml").read_text()
    assert "server/browse/templates/*.html" in pyproject and "server/browse/static/*.css" in pyproject
