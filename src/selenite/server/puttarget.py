"""The folder backend's upload target, ``PUT /_selenite/upload``: a signed URL's body into staging.

The body is read on the event loop, so a stalled client holds no worker thread and every other
route keeps answering (a thread per PUT let 45 stalled PUTs freeze the server). It is bounded:

* in size: a ``Content-Length`` other than the signed, declared size is refused before a byte is
  read (413 when larger), and reading stops at size + 1 bytes (413); only bytes of exactly the
  declared size and md5 are ever staged;
* in time: each read must bring bytes within ``--idle-timeout`` seconds (else 408; the connection
  layer, ``selenite.server.connections``, closes such a connection at about the same time);
* in number: one PUT at a time per upload URL (409) and ``max_session_puts`` per session (429).

The session's lock is checked before the body is read and again after, right before the bytes are
staged; they land in the session's staging area, which only ``complete`` promotes into the version.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import hashlib
import os
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass

import anyio
import anyio.to_thread
from starlette.requests import ClientDisconnect, Request

from selenite.server import locks, signing
from selenite.server.context import Context
from selenite.server.errors import BadStorageKey, HttpError
from selenite.server.keyspace import staging_prefix
from selenite.server.storage.base import is_internal, validate_key

_FLUSH = 1 << 20  # bytes gathered on the loop before one write in a worker thread


@dataclass(frozen=True)
class Target:
    """What a genuine upload URL names: a file of a version, its declared bytes, its session."""

    project: str
    asset: str
    version: str
    path: str
    md5_hex: str
    size: int
    lock_hash: str

    @property
    def staged_name(self) -> str:
        return staging_prefix(self.project, self.lock_hash) + self.path


def check_url(
    ctx: Context, key: str, md5_b64: str, size: int, expires: int, lock_hash: str, sig: str,
    content_md5: str | None, content_length: str | None,
) -> Target:
    """Everything that can be refused before the body is read (a few small storage reads)."""
    problem = signing.check_signature(signing.upload_secret(ctx.storage), key, md5_b64, size, expires, lock_hash, sig)
    if problem:
        raise HttpError(403, problem)
    try:
        validate_key(key)
        md5_hex = base64.b64decode(md5_b64, validate=True).hex()
    except (BadStorageKey, binascii.Error, ValueError) as e:
        raise HttpError(400, f"invalid upload target: {e}") from None
    if content_md5 is not None and content_md5.strip() != md5_b64:
        raise HttpError(400, "Content-MD5 header does not match the md5 this URL was signed for")
    parts = key.split("/", 3)
    if len(parts) != 4 or is_internal(key) or len(md5_hex) != 32 or size < 0:
        raise HttpError(400, "invalid upload target: not a file of a version")
    if content_length is not None:
        try:
            length = int(content_length)
        except ValueError:
            raise HttpError(400, "Content-Length is not a number") from None
        if length > size:
            raise HttpError(413, f"the body ({length} bytes) is larger than the declared size of {size} bytes")
        if length < size:
            raise HttpError(400, f"the body ({length} bytes) is smaller than the declared size of {size} bytes")
    if not locks.lock_is_held_by(ctx, parts[0], parts[1], parts[2], lock_hash):
        raise HttpError(403, "the upload session of this URL no longer holds the project lock")
    return Target(parts[0], parts[1], parts[2], parts[3], md5_hex, size, lock_hash)


@contextlib.contextmanager
def slot(ctx: Context, target: Target) -> Iterator[None]:
    """Count this PUT in, or refuse it: one per upload URL, ``max_session_puts`` per session."""
    name, session = target.staged_name, target.lock_hash
    if ctx.puts_by_target.get(name):
        raise HttpError(409, "another PUT to this upload URL is still in progress; wait for it or close it")
    if ctx.puts_by_session.get(session, 0) >= ctx.settings.max_session_puts:
        raise HttpError(429, f"this upload session already has {ctx.settings.max_session_puts} PUTs in progress")
    ctx.puts_by_target[name] = 1
    ctx.puts_by_session[session] = ctx.puts_by_session.get(session, 0) + 1
    try:
        yield
    finally:
        del ctx.puts_by_target[name]
        ctx.puts_by_session[session] -= 1
        if not ctx.puts_by_session[session]:
            del ctx.puts_by_session[session]


async def receive(ctx: Context, request: Request, target: Target) -> tuple[str, str]:
    """Read the body into a temp file, at most size + 1 bytes; (temp path, md5 hex)."""
    idle = ctx.settings.upload_idle_timeout
    fd, tmp = tempfile.mkstemp(dir=ctx.storage.spool_dir(), prefix="put-", suffix=".part")
    try:
        with os.fdopen(fd, "wb") as f:
            h, received, pending = hashlib.md5(), 0, bytearray()
            body = request.stream().__aiter__()
            while True:
                try:
                    with anyio.fail_after(idle):
                        chunk = await body.__anext__()
                except StopAsyncIteration:
                    break
                except TimeoutError:
                    raise HttpError(408, f"the upload body stalled: no bytes for {idle:g} s") from None
                except ClientDisconnect:
                    raise HttpError(400, "the client went away before the body was complete") from None
                received += len(chunk)
                if received > target.size:
                    raise HttpError(413, f"the body is larger than the declared size of {target.size} bytes")
                h.update(chunk)
                pending += chunk
                if len(pending) >= _FLUSH:
                    await anyio.to_thread.run_sync(f.write, bytes(pending))
                    pending.clear()
            await anyio.to_thread.run_sync(f.write, bytes(pending))
        ctx.stats.add("upload_put_bytes", received)
        if received != target.size:
            raise HttpError(400, f"the body has {received} bytes, not the declared {target.size}")
        return tmp, h.hexdigest()
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def stage(ctx: Context, target: Target, tmp: str, md5_hex: str) -> None:
    """Stage the received file if its md5 is the declared one and its session still lives."""
    try:
        if md5_hex != target.md5_hex:
            raise HttpError(400, f"BadDigest: md5 of the bytes sent is {md5_hex}, not the declared {target.md5_hex}")
        # Again: the session may have ended (abort, complete, expiry) while the body was arriving.
        if not locks.lock_is_held_by(ctx, target.project, target.asset, target.version, target.lock_hash):
            raise HttpError(403, "the upload session of this URL ended while its body arrived; nothing was stored")
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    ctx.storage.stage_file(target.staged_name, tmp, md5_hex=md5_hex)  # consumes tmp, even on failure
