"""The upload flow: start, presigned URL, complete, abort (§1.5-§1.8), and the folder upload target."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Header, Path, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response

from selenite.server import batchupload, puttarget, uploads
from selenite.server.context import Context
from selenite.server.http import (
    body_doc,
    empty,
    json_response,
    large_body_slot,
    parse_json,
    read_body,
    refuse_dense,
    session_header,
)
from selenite.server.routes.params import Caller, Ctx, ProjectAssetVersion
from selenite.server.signing import UPLOAD_ROUTE

router = APIRouter(tags=["upload"])

_START_EXAMPLE = {
    "files": [
        {"type": "simple", "path": "data/a.csv", "md5sum": "d41d8cd98f00b204e9800998ecf8427e", "size": 0},
        {"type": "dedup", "path": "b.txt", "md5sum": "0cc175b9c0f1b6a831c399e269772661", "size": 1},
        {"type": "link", "path": "c.txt", "link": {"project": "p", "asset": "a", "version": "v1", "path": "c.txt"}},
    ],
    "on_probation": False,
}


@router.post(
    "/upload/start/{project}/{asset}/{version}",
    summary="Start an upload: lock the project, write the manifest, get upload URLs",
    openapi_extra=body_doc("Files to upload (simple/dedup) or link, and on_probation.", _START_EXAMPLE),
)
async def upload_start(request: Request, pav: ProjectAssetVersion, user: Caller, ctx: Ctx) -> Response:
    """Uploader, owner or admin. Returns `file_urls` (only files that must be sent), `complete_url`,
    `abort_url` and `session_token`. 400 for an existing version (which is left untouched), 403
    when the project is locked by another upload."""
    p, a, v = pav
    # Token (the Caller dependency) and rights before reading a byte of the body: a caller who will
    # be refused never makes the server hold (or parse) a 16 MiB manifest.
    trusted = await run_in_threadpool(uploads.check_start_rights, ctx, p, a, v, user)
    raw = await read_body(request)
    refuse_dense(raw, uploads.START_BYTES_PER_CONTAINER)
    async with large_body_slot(ctx, len(raw)):  # the parsed manifest lives only inside the slot
        out = await run_in_threadpool(_start, ctx, p, a, v, raw, user, trusted)
    return json_response(out)


def _start(ctx: Context, p: str, a: str, v: str, raw: bytearray, user: str, trusted: bool) -> dict[str, object]:
    return uploads.start(ctx, p, a, v, parse_json(raw), user, trusted)


@router.post(
    "/upload/presigned-file/{slug:path}",
    summary="Get the URL to PUT one file's bytes to",
)
def upload_presigned(
    request: Request,
    ctx: Ctx,
    slug: str = Path(description="The opaque slug from `file_urls[].url` (standard or URL-safe base64; may hold '/')."),
    authorization: str | None = Depends(session_header),
) -> Response:
    """Returns `{"url", "md5sum_base64"}`: PUT the raw bytes to `url` with `Content-MD5:
    md5sum_base64`. Can be called again for a fresh URL while the session holds the lock."""
    base = str(request.base_url).rstrip("/")
    return json_response(uploads.presign(ctx, slug, authorization, base))


@router.post("/upload/complete/{project}/{asset}/{version}", summary="Finish an upload and release the lock")
def upload_complete(
    pav: ProjectAssetVersion, ctx: Ctx, authorization: str | None = Depends(session_header)
) -> Response:
    """Checks every expected file is there with its size (and md5 where the storage knows it), writes
    `..links`, the finished summary, `..latest` (unless on probation), usage and the change log."""
    uploads.complete(ctx, *pav, authorization)
    return empty()


@router.post("/upload/abort/{project}/{asset}/{version}", summary="Abandon an upload: delete it, release the lock")
def upload_abort(
    pav: ProjectAssetVersion, ctx: Ctx, authorization: str | None = Depends(session_header)
) -> Response:
    """Deletes everything under the version and unlocks the project."""
    uploads.abort(ctx, *pav, authorization)
    return empty()


@router.put(UPLOAD_ROUTE, summary="Upload target of the folder backend (a signed, expiring URL)", tags=["selenite"])
async def upload_put(
    request: Request,
    ctx: Ctx,
    key: str = Query(description="The version's key the bytes are for (signed)."),
    md5: str = Query(description="The declared md5, base64 (signed)."),
    size: int = Query(description="The declared size in bytes (signed)."),
    expires: int = Query(description="Expiry, seconds since the epoch (signed)."),
    lock: str = Query(description="The upload session's lock hash (signed)."),
    sig: str = Query(description="HMAC-SHA256 signature of the fields above."),
    content_md5: str | None = Header(default=None, alias="Content-MD5", description="Optional; must match `md5`."),
    content_length: str | None = Header(default=None, alias="Content-Length", description="Must be `size` if sent."),
) -> Response:
    """Stages the body for the session's `complete`: 413 past the declared size, 400 (nothing
    stored) when size or md5 differ, 403 for a tampered or expired URL or once the session no
    longer holds the lock, 408 when the body stalls, 409/429 when too many PUTs are in progress."""
    ctx.stats.add("upload_put")
    target = await run_in_threadpool(
        puttarget.check_url, ctx, key, md5, size, expires, lock, sig, content_md5, content_length
    )
    with puttarget.slot(ctx, target):
        tmp, md5_hex = await puttarget.receive(ctx, request, target)
        await run_in_threadpool(puttarget.stage, ctx, target, tmp, md5_hex)
    return Response(status_code=200, headers={"ETag": f'"{md5_hex}"'})


@router.post(
    "/_selenite/upload-batch/{project}/{asset}/{version}",
    summary="Several files of an upload session in one request (selenite's batched upload of small files)",
    tags=["selenite"],
    openapi_extra={"requestBody": {"required": True, "description": (
        "For each file: one JSON line {\"path\", \"size\", \"md5sum\"}, then exactly size bytes. At most "
        f"{batchupload.MAX_FILES} files and {batchupload.MAX_BODY} bytes."),
        "content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}}}},
)
async def upload_batch(
    request: Request, pav: ProjectAssetVersion, ctx: Ctx, authorization: str | None = Depends(session_header)
) -> Response:
    """Stages every file of the body, as presigned PUTs would, for the session's `complete`; returns
    `{"staged": N}`. All or nothing: 400 (nothing staged) for a file the manifest does not expect,
    a size or md5 other than the manifest's, bytes that do not hash to it, or a malformed body;
    403 unless the session holds the lock; 413 past the size limits; 429 when the session has
    `max_session_puts` uploads in progress; 503 when the server is busy with other batches. A
    gypsum worker has no such route (404): clients then use the presigned URLs of `file_urls`."""
    session = await run_in_threadpool(batchupload.check_caller, ctx, *pav, authorization)
    with batchupload.slot(ctx, session):
        async with batchupload.body_turn(ctx):
            raw = await read_body(request, batchupload.MAX_BODY)
            out = await run_in_threadpool(batchupload.stage, ctx, *pav, session, raw)
    return json_response(out)
