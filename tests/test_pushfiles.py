"""pushfiles: a push's small files go many to a request to a selenite registry (and, once staged,
back to the caller for the cache); a registry without the batched route (a gypsum worker answers it
404) gets every file through its presigned URL, and is not asked for a batch again."""

from __future__ import annotations

import base64
import hashlib
import json
from pathlib import Path

from selenite import pushfiles, pushplan
from selenite.keys import Key
from selenite.registry import RegistryClient
from tests.support.evilreg import EvilRegistry, Reply, Request


def _plan(tmp_path: Path, files: dict[str, bytes]) -> tuple[pushplan.Plan, dict[str, object]]:
    plan = pushplan.Plan()
    for path, data in files.items():
        (tmp_path / path).write_bytes(data)
        key = Key(hashlib.md5(data).hexdigest(), len(data), ".txt")
        plan.items.append(pushplan.Item(path, key, pushplan.SIMPLE, source=tmp_path / path))
    init = {"file_urls": [{"path": p, "url": f"/upload/presigned-file/{p}", "method": "presigned"} for p in files],
            "session_token": "00000000-0000-4000-8000-000000000000"}
    return plan, init


def test_a_registry_without_the_batched_route_gets_presigned_puts(evilreg: EvilRegistry, tmp_path: Path) -> None:
    files = {"a.txt": b"alpha\n", "b.txt": b"beta\n", "c.txt": b"gamma\n"}
    put: dict[str, bytes] = {}

    def presign(req: Request) -> Reply:
        path = req.path.rsplit("/", 1)[1]
        md5 = base64.b64encode(hashlib.md5(files[path]).digest()).decode()
        return Reply.of_json({"url": f"{evilreg.url}/put/{path}", "md5sum_base64": md5})

    def store(req: Request) -> Reply:
        put[req.path.rsplit("/", 1)[1]] = req.body
        return Reply()

    evilreg.routes[("POST", "/upload/presigned-file/")] = presign
    evilreg.routes[("PUT", "/put/")] = store
    plan, init = _plan(tmp_path, files)
    client = RegistryClient(evilreg.url, "token")
    try:
        kept: list[tuple[Key, bytes]] = []
        assert pushfiles.send(client, init, plan, ("p", "a", "v2"), jobs=2, keep=kept.extend) == sum(
            map(len, files.values()))
        assert put == files and not client.upload_batching
        assert kept == []  # only what a batch carried is handed back (the caller reads the rest itself)
        assert len(evilreg.requested("POST", "/_selenite/upload-batch/")) == 1  # asked once, 404
        put.clear()
        pushfiles.send(client, init, plan, ("p", "a", "v3"), jobs=2)
        assert put == files and len(evilreg.requested("POST", "/_selenite/upload-batch/")) == 1  # not asked again
    finally:
        client.close()


def test_small_files_travel_together(evilreg: EvilRegistry, tmp_path: Path) -> None:
    files = {f"f{i}.txt": f"file {i}\n".encode() for i in range(5)}
    evilreg.routes[("POST", "/_selenite/upload-batch/p/a/v2")] = lambda req: Reply.of_json({"staged": 5})
    plan, init = _plan(tmp_path, files)
    client = RegistryClient(evilreg.url, "token")
    kept: list[tuple[Key, bytes]] = []
    try:
        assert pushfiles.send(client, init, plan, ("p", "a", "v2"), jobs=2, keep=kept.extend) == sum(
            map(len, files.values()))
    finally:
        client.close()
    # Once the registry staged the batch, its files come back with their keys, from the bytes sent.
    assert sorted(kept) == sorted((i.key, files[i.path]) for i in plan.items)
    [batch] = evilreg.requested("POST", "/_selenite/upload-batch/")
    assert batch.headers["Authorization"] == f"Bearer {init['session_token']}"
    body, got = batch.body, {}
    while body:
        line, _, body = body.partition(b"\n")
        head = json.loads(line)
        got[head["path"]], body = body[: head["size"]], body[head["size"] :]
    assert got == files and not evilreg.requested("POST", "/upload/presigned-file/")
