"""Public reads: ``GET|HEAD /file/{key}`` and ``GET /list`` (gypsum-api.md §1.18, §1.19)."""

from __future__ import annotations

from collections.abc import Iterator
from email.utils import format_datetime

from fastapi import APIRouter, Header, Path, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response, StreamingResponse
from starlette.types import Receive, Scope, Send

from selenite.server import zerocopy
from selenite.server.context import Context
from selenite.server.errors import HttpError, RangeNotSatisfiable
from selenite.server.http import CORS, error_response, json_response
from selenite.server.names import decode_component
from selenite.server.routes.params import Ctx
from selenite.server.storage.base import CHUNK, ObjectInfo, ObjectStream, is_internal
from selenite.server.storage.ranges import ByteRange, content_range, parse_range

router = APIRouter(tags=["read"])

KEY_DOC = (
    "The object key with every '/' percent-encoded as %2F (e.g. `test%2Fblob%2Fv1%2F..manifest`). "
    "Decoded once like decodeURIComponent; a key holding '+' that does not exist is looked up again "
    "with '+' as a space (gypsum_client 0.2.0 encodes keys with quote_plus)."
)
RANGE_DOC = (
    "One byte range, `bytes=FIRST-LAST`, `bytes=FIRST-` or `bytes=-SUFFIX_LENGTH`: answered 206 with "
    "`Content-Range`, or 416 (`Content-Range: bytes */SIZE`) when no byte of it exists. A malformed "
    "header, another unit or several ranges are ignored: the whole object is sent (200)."
)
_NOT_FOUND = "object not found"


def _headers(info: ObjectInfo) -> dict[str, str]:
    if info.content_type:
        content_type = info.content_type
    elif info.key.endswith("/..LOCK"):
        content_type = "application/json"  # the worker sends none; JSON is what it holds
    else:
        content_type = "application/json" if is_internal(info.key) else "application/octet-stream"
    headers = {
        "Accept-Ranges": "bytes",
        # So that a web page reading parts of a file (an HDF5 or zarr viewer) can see them.
        "Access-Control-Expose-Headers": "Accept-Ranges, Content-Range, ETag",
        "Content-Length": str(info.size),
        "Content-Type": content_type,
        "Last-Modified": format_datetime(info.last_modified, usegmt=True),
        **CORS,
    }
    if info.md5:
        headers["ETag"] = f'"{info.md5}"'
    return headers


def _keys(raw: str) -> list[str]:
    """The key as decodeURIComponent reads it, then, if it holds a '+', as a form would ('+' is a
    space): gypsum_client 0.2.0 sends `quote_plus` keys, the worker only the first reading."""
    key = decode_component(raw)
    return [key, decode_component(raw.replace("+", "%20"))] if "+" in raw else [key]


@router.head("/file/{key}", summary="Metadata of one object (no body)", response_class=Response)
def head_file(ctx: Ctx, key: str = Path(description=KEY_DOC)) -> Response:
    """Same headers as GET (Content-Length, ETag = quoted md5, Last-Modified, Content-Type), no body."""
    ctx.stats.add("file_head")
    info = next((i for k in _keys(key) if (i := ctx.storage.head(k)) is not None), None)
    if info is None:
        raise HttpError(404, _NOT_FOUND)
    return Response(status_code=200, headers=_headers(info))


@router.get(
    "/file/{key}",
    summary="Download one object",
    response_class=StreamingResponse,
    responses={200: {"content": {"application/octet-stream": {}}}, 404: {"description": "object not found"}},
)
async def get_file(
    ctx: Ctx,
    request: Request,
    key: str = Path(description=KEY_DOC),
    range_: str | None = Header(None, alias="Range", description=RANGE_DOC),
) -> Response:
    """Streams any key, internal `..` files included (they are how clients read permissions,
    quota, usage, latest, summaries, manifests, links and logs), whole or one byte range of it."""
    ctx.stats.add("file_get")
    # One worker-thread hop opens the object and reads its first chunk (storage calls block). An
    # object that fits in it (most files of a dataset, every manifest) goes out as one plain
    # response; only bigger ones stream, a hop per chunk, or go out by sendfile when the backend
    # holds them in a local file and the server offers it (zerocopy.py).
    zero_copy = zerocopy.EXTENSION in request.scope.get("extensions", {})
    try:
        opened = await run_in_threadpool(_open_first, ctx, _keys(key), parse_range(range_), zero_copy)
    except RangeNotSatisfiable as e:
        refused = error_response(416, "range not satisfiable")
        refused.headers["Content-Range"] = f"bytes */{e.size}"
        return refused
    if opened is None:
        raise HttpError(404, _NOT_FOUND)
    stream, first = opened
    headers = _headers(stream.info)
    media_type = headers.pop("Content-Type")
    status = 200
    if stream.span is not None:
        status = 206
        headers["Content-Length"] = str(stream.length)
        headers["Content-Range"] = content_range(*stream.span, stream.info.size)
    if first is None:
        return _FileBody(ctx, stream, status, headers, media_type)
    ctx.stats.add("file_get_bytes", len(first))
    if len(first) >= stream.length:
        return Response(first, status_code=status, headers=headers, media_type=media_type)

    def counted() -> Iterator[bytes]:
        try:
            yield first
            for chunk in stream.chunks:
                ctx.stats.add("file_get_bytes", len(chunk))
                yield chunk
        finally:
            stream.close()

    return StreamingResponse(counted(), status_code=status, headers=headers, media_type=media_type)


class _FileBody(Response):
    """An object's bytes sent from its file by the server's ``sendfile`` (``zerocopy.py``)."""

    def __init__(self, ctx: Context, stream: ObjectStream, status: int, headers: dict[str, str], media_type: str
                 ) -> None:
        super().__init__(status_code=status, headers=headers, media_type=media_type)
        self._ctx, self._stream = ctx, stream

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        stream = self._stream
        try:
            await send({"type": "http.response.start", "status": self.status_code, "headers": self.raw_headers})
            await send({"type": zerocopy.EXTENSION, "file": stream.file, "offset": stream.offset,
                        "count": stream.length})
            self._ctx.stats.add("file_get_bytes", stream.length)
        finally:
            stream.close()


def _open_first(ctx: Context, keys: list[str], byte_range: ByteRange | None, zero_copy: bool = False
                ) -> tuple[ObjectStream, bytes | None] | None:
    """The object opened and its first chunk read; None instead of the chunk when it will go out
    by ``sendfile`` (``zero_copy``: the server offers it), as an object bigger than a chunk does
    when the backend holds it in a local file."""
    stream = next((s for k in keys if (s := ctx.storage.open(k, byte_range)) is not None), None)
    if stream is None:
        return None
    if zero_copy and stream.file is not None and stream.length > CHUNK:
        return stream, None
    try:
        first = next(stream.chunks, b"")
    except BaseException:
        stream.close()
        raise
    if len(first) >= stream.length:
        stream.close()
    return stream, first


@router.get("/list", summary="List keys under a prefix")
def list_keys(
    ctx: Ctx,
    prefix: str | None = Query(
        default=None,
        description="Raw key prefix (need not end in '/'). Send it percent-encoded once, as any query "
        "value (requests' params= does); it is decoded once (unlike the worker's second decode).",
    ),
    recursive: str | None = Query(default=None, description="Exactly `true` for every key below the prefix."),
) -> Response:
    """Non-recursive: the common prefixes (full keys ending in '/') then the keys directly under
    the prefix. Recursive: every key under it. A flat JSON array of full keys; internal `..`
    entries are not filtered. More than `--max-list-entries` (100,000) entries: 400, list a
    narrower prefix."""
    ctx.stats.add("list")
    prefix = prefix or ""
    cap = ctx.settings.max_list_entries
    keys = [k for k, _ in ctx.storage.list_recursive(prefix)] if recursive == "true" else ctx.storage.list_dir(prefix)
    if len(keys) > cap:  # beyond the worker: one answer must stay a bounded size
        raise HttpError(400, f"more than {cap} keys under prefix '{prefix}'; list a narrower prefix")
    return json_response(keys, cors=True)
