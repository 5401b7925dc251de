"""Batched download of small files: the server's POST /_selenite/objects, the client that reads it,
and the fall-back to one GET per file when a registry (a gypsum worker) has no such route."""

from __future__ import annotations

import http.server
import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import ClassVar
from urllib.parse import unquote

import pytest
import requests

from selenite.cache import Cache
from selenite.errors import RegistryError
from selenite.keys import Key
from selenite.registry import RegistryClient
from selenite.transfer import fetch_objects
from tests.support.cli import selenite
from tests.support.files import md5, tree_files
from tests.support.registry import Registry
from tests.support.seed import create_project, upload_version

FILES = {f"d{i % 3}/f{i:03d}.txt": f"row {i}\n".encode() * (i + 1) for i in range(150)}


@pytest.fixture
def seeded(registry: Registry, tmp_path: Path) -> Registry:
    create_project(registry)
    upload_version(registry, tmp_path, "v1", FILES)
    return registry


def _records(body: bytes) -> list[tuple[str, bytes | None]]:
    out, pos = [], 0
    while pos < len(body):
        nl = body.index(b"\n", pos)
        head = json.loads(body[pos:nl])
        pos = nl + 1
        if head["size"] < 0:
            out.append((head["key"], None))
        else:
            out.append((head["key"], body[pos : pos + head["size"]]))
            pos += head["size"]
    return out


def test_objects_route_sends_records_in_order(seeded: Registry) -> None:
    keys = ["test/blob/v1/d0/f000.txt", "test/blob/v1/nope.txt", "test/blob/v1/d2/f149.txt", "test/blob/v1/..manifest"]
    before = seeded.stats()
    r = requests.post(f"{seeded.url}/_selenite/objects", json={"keys": keys}, timeout=30)
    assert r.status_code == 200
    got = _records(r.content)
    assert [k for k, _ in got] == keys
    assert got[0][1] == FILES["d0/f000.txt"] and got[1][1] is None and got[2][1] == FILES["d2/f149.txt"]
    assert json.loads(got[3][1] or b"{}")["d1/f001.txt"]["md5sum"] == md5(FILES["d1/f001.txt"])
    after = seeded.stats()
    assert after["file_get"] - before["file_get"] == 3  # one per object sent, as GET /file counts
    assert after["file_get_bytes"] - before["file_get_bytes"] == sum(len(d or b"") for _, d in got)


@pytest.mark.backends("folder")
def test_objects_route_refuses_bad_bodies(registry: Registry) -> None:
    for body in ({"keys": "x"}, {"keys": [1]}, {"nokeys": []}, {"keys": ["a"] * 1001},
                 {"keys": ["test/../etc/passwd"]}, {"keys": ["/abs"]}, ["test/blob"]):
        r = requests.post(f"{registry.url}/_selenite/objects", json=body, timeout=30)
        assert r.status_code == 400 and r.json()["status"] == "error", body
    r = requests.post(f"{registry.url}/_selenite/objects", data=b"not json", timeout=30)
    assert r.status_code == 400


@pytest.mark.backends("folder")
def test_client_reads_records_and_reports_absent_keys(seeded: Registry) -> None:
    client = RegistryClient(seeded.url)
    keys = [f"test/blob/v1/{p}" for p in sorted(FILES)[:70]] + ["test/blob/v1/absent.bin"]
    got = list(client.get_objects(keys))
    assert [k for k, _ in got] == keys
    assert [d for _, d in got[:-1]] == [FILES[p] for p in sorted(FILES)[:70]] and got[-1][1] is None


@pytest.mark.backends("folder")
def test_clone_of_many_small_files_takes_few_requests(seeded: Registry, tmp_path: Path) -> None:
    before = seeded.stats()
    selenite("clone", "test/blob@v1", tmp_path / "w", "--url", seeded.url)
    after = seeded.stats()
    assert tree_files(tmp_path / "w") == FILES
    assert after["file_get"] - before["file_get"] == 2 + len(FILES)  # summary, manifest, every file once
    assert after["requests"] - before["requests"] <= 2 + 8  # 150 files in a few batched requests


class _GypsumLike(http.server.BaseHTTPRequestHandler):
    """Serves GET /file/{key} from a dict and answers every other request 404, as a gypsum worker
    answers a route it does not know."""

    files: ClassVar[dict[str, bytes]] = {}  # the served bucket, set per test
    posts = 0
    gets = 0

    def do_GET(self) -> None:
        key = unquote(self.path.removeprefix("/file/"))
        data = self.files.get(key)
        type(self).gets += 1
        if data is None:
            self._send(404, b'{"status": "error", "reason": "no such endpoint"}')
        else:
            self._send(200, data)

    def do_POST(self) -> None:
        type(self).posts += 1
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self._send(404, b'{"status": "error", "reason": "no such endpoint"}')

    def _send(self, status: int, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Content-Type", "application/json" if status != 200 else "application/octet-stream")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def gypsum_like() -> Iterator[str]:
    _GypsumLike.files = {f"p/a/v1/{p}": d for p, d in FILES.items()}
    _GypsumLike.posts = _GypsumLike.gets = 0
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _GypsumLike)
    t = threading.Thread(target=server.serve_forever, daemon=True)
    t.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_registry_without_the_route_gets_files_one_by_one(gypsum_like: str, tmp_path: Path) -> None:
    client = RegistryClient(gypsum_like)
    with pytest.raises(RegistryError) as e:
        list(client.get_objects(["p/a/v1/d0/f000.txt"]))
    assert e.value.status == 404
    cache = Cache(tmp_path / "cache")
    wanted = {Key(md5(d), len(d), ".txt"): f"p/a/v1/{p}" for p, d in FILES.items()}
    assert fetch_objects(client, cache, wanted, jobs=4) == len(FILES)
    assert client.batching is False
    assert _GypsumLike.posts <= 5  # at most one refused batch per worker thread, then plain GETs
    for key in wanted:
        assert cache.object_path(key).read_bytes() == FILES[wanted[key].removeprefix("p/a/v1/")]

