"""Helpers of the server tests: the Server handle, starting one, and raw-protocol uploads.

Backend-specific setup lives in `_make_registry` only, so the S3 backend runs every server test by
adding "s3" to `tests.support.registry.BACKENDS` and a branch there (tests that poke at the folder layout check
`srv.backend == "folder"`).
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
import requests
from tests.support import s3server
from tests.support.files import md5
from tests.support.registry import Registry

USERS = ("admin", "alice", "bob", "carol", "eve")  # admin; owner; uploaders; nobody


class Server(Registry):
    backend: str = "folder"
    tokens: dict[str, str]

    def req(
        self, method: str, path: str, user: str | None = None, token: str | None = None, **kw: Any
    ) -> requests.Response:
        headers = kw.pop("headers", {})
        if user is not None:
            headers["Authorization"] = f"Bearer {self.tokens[user]}"
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        return requests.request(method, self.url + path, headers=headers, timeout=30, allow_redirects=False, **kw)

    def bucket(self) -> Path:
        assert self.backend == "folder"
        return self.root / "bucket"


def _make_registry(backend: str, root: Path, extra_args: list[str]) -> Server:
    if backend in ("folder", "s3"):
        srv: Server = Server.for_backend(backend, root, extra_args=extra_args)
        return srv
    pytest.skip(f"no test setup for the {backend} backend yet")


def s3_storage() -> Any:
    """An S3Storage, opened the way `selenite serve --storage` opens it, on a fresh prefix."""
    from selenite.server.storage.s3connect import open_s3_storage
    from selenite.server.storage.s3settings import S3Settings

    weed = s3server.shared()
    bucket, prefix = weed.shared_bucket(), weed.new_prefix()
    with pytest.MonkeyPatch.context() as mp:
        for k, v in s3server.aws_env().items():
            mp.setenv(k, v)
        return open_s3_storage(f"s3://{bucket}/{prefix}", S3Settings(endpoint=weed.endpoint))


def start_server(backend: str, root: Path, extra_args: list[str] | None = None) -> Server:
    with pytest.MonkeyPatch.context() as mp:  # module-scoped: runs before the autouse env isolation
        for k in list(os.environ):
            if k.startswith(("SELENITE_", "GYPSUM_")):
                mp.delenv(k)
        srv = _make_registry(backend, root, extra_args or [])
        srv.tokens = {u: srv.token(u) for u in USERS}
        srv.admin_token = srv.tokens["admin"]
        srv.start()
    return srv


@contextlib.contextmanager
def serving(backend: str, root: Path, extra_args: list[str] | None = None) -> Iterator[Server]:
    """A started server for a fixture's lifetime (``with serving(...) as srv: yield srv``)."""
    server = start_server(backend, root, extra_args)
    try:
        yield server
    finally:
        server.stop()


def q(key: str) -> str:
    return quote(key, safe="")


def start(
    srv: Server,
    user: str,
    p: str,
    a: str,
    v: str,
    files: dict[str, bytes] | None = None,
    links: list[dict[str, Any]] | None = None,
    probation: bool | None = None,
    dedup: bool = False,
) -> requests.Response:
    entries: list[dict[str, Any]] = [
        {"type": "dedup" if dedup else "simple", "path": path, "md5sum": md5(data), "size": len(data)}
        for path, data in (files or {}).items()
    ]
    entries += [{"type": "link", "path": lk["path"], "link": lk["link"]} for lk in links or []]
    body: dict[str, Any] = {"files": entries}
    if probation is not None:
        body["on_probation"] = probation
    return srv.req("POST", f"/upload/start/{q(p)}/{q(a)}/{q(v)}", user=user, json=body)


def put_files(srv: Server, init: dict[str, Any], files: dict[str, bytes]) -> None:
    for fu in init["file_urls"]:
        r = srv.req("POST", fu["url"], token=init["session_token"])
        assert r.status_code == 200, r.text
        pre = r.json()
        r = requests.put(pre["url"], data=files[fu["path"]], headers={"Content-MD5": pre["md5sum_base64"]}, timeout=30)
        assert r.status_code == 200, r.text


def upload(
    srv: Server,
    user: str,
    p: str,
    a: str,
    v: str,
    files: dict[str, bytes] | None = None,
    links: list[dict[str, Any]] | None = None,
    probation: bool | None = None,
    dedup: bool = False,
) -> dict[str, Any]:
    """A whole upload over raw HTTP: start, presign + PUT each file, complete."""
    r = start(srv, user, p, a, v, files, links, probation, dedup)
    assert r.status_code == 200, r.text
    init = r.json()
    put_files(srv, init, files or {})
    r = srv.req("POST", init["complete_url"], token=init["session_token"])
    assert r.status_code == 200, r.text
    return init


def get_json(srv: Server, key: str) -> Any:
    r = srv.req("GET", f"/file/{q(key)}")
    assert r.status_code == 200, (key, r.text)
    return r.json()


def listing(srv: Server, prefix: str, recursive: bool = True) -> list[str]:
    r = srv.req("GET", "/list", params={"prefix": prefix, "recursive": "true" if recursive else "false"})
    assert r.status_code == 200, r.text
    return list(r.json())


def worker_slug(p: str, a: str, v: str, path: str, md5sum: str) -> str:
    """The reference worker's slug: btoa(JSON.stringify([...])), standard base64 (may hold '/')."""
    text = json.dumps([p, a, v, path, md5sum], separators=(",", ":"), ensure_ascii=False)
    return base64.b64encode(text.encode("latin-1")).decode()
