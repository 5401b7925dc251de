"""Routes beyond the gypsum protocol: the server's own counters, who a token is, which versions
link into what a removal would delete (the front page is the browser's, ``server/browse``)."""

from __future__ import annotations

import json
from collections import deque
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response, StreamingResponse

from selenite.server import auth
from selenite.server.context import Context
from selenite.server.errors import HttpError
from selenite.server.http import body_doc, json_body, json_response
from selenite.server.materialise import Scope, dependents
from selenite.server.names import check_name
from selenite.server.routes.params import Admin, Caller, Ctx
from selenite.server.storage.base import ObjectStream, validate_key

BATCH_MAX_KEYS = 1000
BATCH_MAX_BODY = 1 << 20  # 1000 keys of ~1 KiB; this route is public, so its body cap is small
_FLUSH = 1 << 20  # records are gathered into pieces of about this size (one worker-thread hop each)

router = APIRouter(tags=["selenite"])


@router.get("/_selenite/stats", summary="Request and byte counters since the server started")
def stats(ctx: Ctx) -> Response:
    """`{"requests", "file_get", "file_get_bytes", "file_head", "list", "upload_put", "upload_put_bytes",
    "upload_batch", "upload_batch_bytes"}`: `upload_put*` count the folder backend's signed upload
    target, `upload_batch*` the files (and their bytes) staged by `POST /_selenite/upload-batch`."""
    return json_response(ctx.stats.snapshot())


@router.get("/_selenite/whoami", summary="The user a bearer token belongs to")
def whoami(user: Caller, ctx: Ctx) -> Response:
    """`{"user": NAME, "admin": true|false}`; 401 for a missing, unknown or revoked token. `selenite
    login` checks a token with it before saving it."""
    return json_response({"user": user, "admin": auth.is_admin(ctx, user)})


@router.get("/_selenite/dependents", summary="The versions that link into a project, asset or version")
def list_dependents(
    _admin: Admin,
    ctx: Ctx,
    project: str = Query(description="The project."),
    asset: str | None = Query(None, description="Narrow to this asset of it."),
    version: str | None = Query(None, description="Narrow to this version of the asset (needs `asset`)."),
) -> Response:
    """Admins (who alone may remove): `[{"project", "asset", "version", "paths": [...]}]`, every
    version outside the target whose manifest links into it. Removing the target copies the linked
    bytes into those versions first; `selenite remove` shows this list and asks for `--force`. It
    reads every version's manifest: not offered to anyone, to keep that cost for removals."""
    if version is not None and asset is None:
        raise HttpError(400, "'version' needs 'asset'")
    scope = Scope(check_name("project", project), asset and check_name("asset", asset),
                  version and check_name("version", version))
    found = dependents(ctx.storage, scope)  # a plain `def` route: FastAPI runs it in a worker thread
    return json_response([d.as_json() for d in found])


@router.post(
    "/_selenite/objects",
    summary="Several objects in one response (selenite's batched download of small files)",
    openapi_extra=body_doc(
        f"The keys to send, at most {BATCH_MAX_KEYS} (a body of at most {BATCH_MAX_BODY} bytes).",
        {"keys": ["p/a/v1/x.csv", "p/a/v1/y.csv"]},
    ),
)
async def objects(request: Request, ctx: Ctx) -> Response:
    """Public, like `GET /file`. For each key, in order: one JSON line `{"key": K, "size": N}` and then
    exactly N bytes of the object; an absent key has `"size": -1` and no bytes. If an object changes
    size while it is read, the stream breaks off (the client then fetches the rest one by one).
    Each object counts as one `file_get` in the stats. A gypsum worker has no such route: clients
    fall back to `GET /file/{key}` when it answers 404."""
    body = await json_body(request, limit=min(BATCH_MAX_BODY, ctx.settings.max_json_bytes))
    keys = body.get("keys") if isinstance(body, dict) else None
    if not isinstance(keys, list) or not all(isinstance(k, str) for k in keys) or len(keys) > BATCH_MAX_KEYS:
        raise HttpError(400, f'expected {{"keys": [at most {BATCH_MAX_KEYS} keys]}}')
    for k in keys:
        validate_key(k)
    return StreamingResponse(_records(ctx, keys), media_type="application/octet-stream")


def _opened(ctx: Context, keys: list[str]) -> Iterator[tuple[str, ObjectStream | None]]:
    """The keys' streams, in order. A backend whose every open waits on the network (S3: a GET each,
    its ``parallel_reads``) has the next few opened ahead on a small pool, so a batch of small objects
    costs about one round trip per that many objects instead of one each. Bodies are still read in
    order, a chunk at a time (memory stays flat)."""
    ahead = int(getattr(ctx.storage, "parallel_reads", 1))
    if ahead <= 1:
        for key in keys:
            yield key, ctx.storage.open(key)
        return
    todo = iter(keys)
    pending: deque[tuple[str, Future[ObjectStream | None]]] = deque()
    with ThreadPoolExecutor(max_workers=ahead, thread_name_prefix="batch-open") as pool:
        try:
            for key in todo:
                pending.append((key, pool.submit(ctx.storage.open, key)))
                if len(pending) > ahead:
                    first, done = pending.popleft()
                    yield first, done.result()
            while pending:
                first, done = pending.popleft()
                yield first, done.result()
        finally:  # the client went away or an open failed: close what was opened ahead
            for _, fut in pending:
                if not fut.cancel() and fut.exception() is None and (stream := fut.result()) is not None:
                    stream.close()


def _records(ctx: Context, keys: list[str]) -> Iterator[bytes]:
    buf = bytearray()
    for key, stream in _opened(ctx, keys):
        if stream is None:
            buf += json.dumps({"key": key, "size": -1}).encode() + b"\n"
            continue
        ctx.stats.add("file_get")
        try:
            size = stream.info.size
            buf += json.dumps({"key": key, "size": size}).encode() + b"\n"
            sent = 0
            for chunk in stream.chunks:
                buf += chunk
                sent += len(chunk)
                ctx.stats.add("file_get_bytes", len(chunk))
                if len(buf) >= _FLUSH:
                    yield bytes(buf)
                    buf.clear()
            if sent != size:  # the framing would be wrong: break the stream instead
                raise OSError(f"{key} changed size while it was being sent")
        finally:
            stream.close()
        if len(buf) >= _FLUSH:
            yield bytes(buf)
            buf.clear()
    if buf:
        yield bytes(buf)
