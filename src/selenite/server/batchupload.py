"""selenite's batched upload of small files (``POST /_selenite/upload-batch/{project}/{asset}/{version}``):
many files of one upload session in one request, for registries that are selenite servers.

A gypsum worker uploads each file through its own presigned URL: a request to get the URL and one to
PUT the bytes, per file, which is most of the time of a push of thousands of small files. This route
takes the same files, in the same session and under the same lock, framed as the batched download
answers are: for each file one JSON line ``{"path", "size", "md5sum"}``, then exactly ``size``
bytes. Every file must be one the session's manifest expects (not a link) with that md5 and size,
and its bytes must hash to it; the request is all or nothing (any refusal is a 400 and stages
nothing). Bounded: at most ``MAX_FILES`` files and ``MAX_BODY`` bytes a request (413 beyond); it
counts as one of the session's ``max_session_puts`` uploads in progress; and only
``context.BATCH_BODIES`` bodies are read and held at once in the whole server (a request waits up
to ``BODY_WAIT`` seconds for its turn, then 503). Staged files land where
presigned PUTs land (the session's staging area), so ``complete`` is unchanged.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
from collections.abc import AsyncIterator, Iterator
from typing import Any

from selenite.server import auth, locks
from selenite.server.context import Context
from selenite.server.errors import HttpError
from selenite.server.jsonfiles import read_json
from selenite.server.keyspace import manifest_key, staging_prefix
from selenite.server.names import check_name
from selenite.server.uploadfiles import MD5

MAX_FILES = 1000
BODY_WAIT = 30.0
MAX_BODY = 8 << 20
_HEADER_MAX = 8192  # one header line: a path of at most a few KiB, its md5 and size


def check_caller(ctx: Context, project: str, asset: str, version: str, authorization: str | None) -> str:
    """Everything refused before the body is read but the count of uploads in progress: names,
    the session (403 when it does not hold the lock). Returns the session's lock hash."""
    token = auth.bearer(authorization)
    for kind, name in (("project", project), ("asset", asset), ("version", version)):
        check_name(kind, name)
    rec, _ = locks.check_session(ctx, project, asset, version, token)
    return str(rec["session_hash"])


@contextlib.asynccontextmanager
async def body_turn(ctx: Context) -> AsyncIterator[None]:
    """One of the server's ``BATCH_BODIES`` turns to read and hold a batch body (503 after ``BODY_WAIT`` s)."""
    try:
        await asyncio.wait_for(ctx.batch_bodies.acquire(), BODY_WAIT)
    except TimeoutError:
        raise HttpError(503, "too many batched uploads are being received; try again later") from None
    try:
        yield
    finally:
        ctx.batch_bodies.release()


@contextlib.contextmanager
def slot(ctx: Context, session: str) -> Iterator[None]:
    """Count this batch among the session's uploads in progress, or refuse it (429), as a PUT to a
    presigned URL is counted (run on the event loop, like ``puttarget.slot``)."""
    if ctx.puts_by_session.get(session, 0) >= ctx.settings.max_session_puts:
        raise HttpError(429, f"this upload session already has {ctx.settings.max_session_puts} uploads in progress")
    ctx.puts_by_session[session] = ctx.puts_by_session.get(session, 0) + 1
    try:
        yield
    finally:
        ctx.puts_by_session[session] -= 1
        if not ctx.puts_by_session[session]:
            del ctx.puts_by_session[session]


def parse(raw: bytes | bytearray) -> list[tuple[str, str, memoryview]]:
    """The body's files as ``(path, md5 hex, bytes)``; 400 for anything but well-formed records."""
    view = memoryview(raw)
    out: list[tuple[str, str, memoryview]] = []
    pos = 0
    while pos < len(raw):
        nl = raw.find(b"\n", pos, pos + _HEADER_MAX)
        if nl < 0:
            raise HttpError(400, "malformed batch: expected a JSON header line")
        try:
            head = json.loads(view[pos:nl].tobytes())
            path, size, md5 = head["path"], head["size"], head["md5sum"]
        except (ValueError, KeyError, TypeError):
            raise HttpError(400, "malformed batch: a header is not {\"path\", \"size\", \"md5sum\"}") from None
        if (not isinstance(path, str) or not isinstance(md5, str) or not MD5.match(md5)
                or not isinstance(size, int) or isinstance(size, bool) or size < 0):
            raise HttpError(400, "malformed batch: a header is not {\"path\", \"size\", \"md5sum\"}")
        start, pos = nl + 1, nl + 1 + size
        if pos > len(raw):
            raise HttpError(400, f"malformed batch: the body ends inside '{path}'")
        out.append((path, md5.lower(), view[start:pos]))
        if len(out) > MAX_FILES:
            raise HttpError(413, f"a batch holds at most {MAX_FILES} files")
    return out


def stage(ctx: Context, project: str, asset: str, version: str, session: str, raw: bytes | bytearray) -> dict[str, Any]:
    """Check every file of the body against the manifest and its bytes, then stage them all."""
    files = parse(raw)
    manifest = read_json(ctx.storage, manifest_key(project, asset, version))
    staged = staging_prefix(project, session)
    items: list[tuple[str, bytes, str]] = []
    seen: set[str] = set()
    for path, md5, data in files:
        entry = manifest.get(path) if isinstance(manifest, dict) else None
        if not isinstance(entry, dict) or "link" in entry or not isinstance(entry.get("md5sum"), str):
            raise HttpError(400, f"path '{path}' is not a file this upload expects")
        if entry["md5sum"].lower() != md5 or entry.get("size") != len(data):
            raise HttpError(400, f"md5sum or size of '{path}' does not match the manifest")
        if path in seen:
            raise HttpError(400, f"'{path}' is twice in the batch")
        seen.add(path)
        actual = hashlib.md5(data, usedforsecurity=False).hexdigest()
        if actual != md5:
            raise HttpError(400, f"BadDigest: md5 of the bytes sent for '{path}' is {actual}, not {md5}")
        items.append((staged + path, bytes(data), md5))
    # Again, right before staging: the session may have ended while the body arrived.
    if not locks.lock_is_held_by(ctx, project, asset, version, session):
        raise HttpError(403, "the upload session ended while the batch arrived; nothing was stored")
    ctx.storage.stage_many(items)
    ctx.stats.add("upload_batch", len(items))
    ctx.stats.add("upload_batch_bytes", sum(len(d) for _, d, _ in items))
    return {"staged": len(items)}
