"""The per-project lock (gypsum-api.md §2.4, §3.6), made atomic and made to expire.

``{project}/..LOCK`` is created with the storage's exclusive create, so of many concurrent starts
exactly one wins (the worker's HEAD-then-PUT could let two through). The record is the worker's
``{"session_hash", "asset", "version"}`` plus ``expires_at`` (ISO time) and ``upload`` (whether an
upload, rather than a short admin operation, holds it).

An expired lock is dead: its session can no longer presign, PUT or complete. The next lock
attempt (or that session's own abort) takes it over: it wins a one-shot marker in the private
state area (so two takers cannot both proceed), checks the lock is still the same record, deletes
the unfinished version the dead upload left behind (never a finished one) and its staged bytes,
then removes the lock.
"""

from __future__ import annotations

import base64
import contextlib
import datetime
import hashlib
import json
import re
import uuid
from collections.abc import Iterator
from typing import Any

from selenite.server.context import Context
from selenite.server.errors import HttpError
from selenite.server.jsonfiles import dumps, read_json
from selenite.server.keyspace import lock_key, staging_prefix, summary_key, version_prefix
from selenite.server.timestamps import iso_ms, parse_time

_UUID4 = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$", re.IGNORECASE)
LOCKED = "project asset has already been locked"


def session_hash(token: str) -> str:
    """base64 of sha256 of the token's UTF-8 bytes, like the worker's ``hashToken``."""
    return base64.b64encode(hashlib.sha256(token.encode("utf-8")).digest()).decode()


def _record(raw: bytes) -> dict[str, Any]:
    try:
        rec = json.loads(raw)
    except ValueError:
        return {}
    return rec if isinstance(rec, dict) else {}


def _expired(rec: dict[str, Any]) -> bool:
    expires = parse_time(rec.get("expires_at"))
    # A lock without an expiry (written by hand, or by an older server) never expires by itself.
    return expires is not None and expires <= datetime.datetime.now(datetime.UTC).timestamp()


def acquire(ctx: Context, project: str, asset: str, version: str, upload: bool = False) -> str:
    """Take the project's lock; returns the session token. 403 when someone holds it."""
    token = str(uuid.uuid4())
    expires = datetime.datetime.now(datetime.UTC) + datetime.timedelta(seconds=ctx.settings.lock_ttl)
    record = dumps(
        {
            "session_hash": session_hash(token),
            "asset": asset,
            "version": version,
            "expires_at": iso_ms(expires),
            "upload": upload,
        }
    )
    key = lock_key(project)
    for _ in range(4):
        if ctx.storage.create_exclusive(key, record):
            return token
        current = ctx.storage.get_bytes(key)
        if current is None:
            continue  # released between our create and our read: try again
        if not take_over_if_expired(ctx, project, current):
            break
    raise HttpError(403, LOCKED)


def take_over_if_expired(ctx: Context, project: str, current: bytes) -> bool:
    """Remove an expired lock and the unfinished version it guarded. True if the lock is gone."""
    rec = _record(current)
    if not _expired(rec):
        return False
    marker = "lock-takeovers/" + hashlib.sha256(project.encode() + b"\0" + current).hexdigest()
    if not ctx.storage.state_create_exclusive(marker, current):
        return False  # someone else is taking this very lock over
    key = lock_key(project)
    if ctx.storage.get_bytes(key) != current:
        return False  # it changed hands meanwhile
    asset, version = rec.get("asset"), rec.get("version")
    if rec.get("upload") and isinstance(asset, str) and isinstance(version, str) and asset and version:
        summary = read_json(ctx.storage, summary_key(project, asset, version), must=False)
        if not (isinstance(summary, dict) and "upload_finish" in summary):
            ctx.storage.delete_prefix(version_prefix(project, asset, version))
    if rec.get("upload") and isinstance(rec.get("session_hash"), str):
        ctx.storage.delete_staged(staging_prefix(project, rec["session_hash"]))
    ctx.storage.delete(key)
    return True


def release(ctx: Context, project: str, token: str) -> None:
    """Drop the lock if it is still ours (after an expiry someone else may hold it)."""
    key = lock_key(project)
    current = ctx.storage.get_bytes(key)
    if current is not None and _record(current).get("session_hash") == session_hash(token):
        ctx.storage.delete(key)


@contextlib.contextmanager
def holding(ctx: Context, project: str, asset: str, version: str) -> Iterator[str]:
    """Hold the lock for a short admin operation (remove, approve, reject, refresh)."""
    token = acquire(ctx, project, asset, version)
    try:
        yield token
    finally:
        release(ctx, project, token)


def check_session(
    ctx: Context, project: str, asset: str, version: str, token: str, allow_expired: bool = False
) -> tuple[dict[str, Any], bytes]:
    """§3.6 ``checkLock`` (each failure a 403), plus: an expired lock no longer authorizes."""
    current = ctx.storage.get_bytes(lock_key(project))
    if current is None:
        raise HttpError(403, "project has not been previously locked for upload")
    if not _UUID4.match(token):
        raise HttpError(403, "session token does not look like a v4 UUID")
    rec = _record(current)
    if rec.get("session_hash") != session_hash(token):
        raise HttpError(403, "project was locked for a different upload session")
    if rec.get("asset") != asset:
        raise HttpError(403, "project was locked for upload of a different asset")
    if rec.get("version") != version:
        raise HttpError(403, "project was locked for upload of a different version")
    if not allow_expired and _expired(rec):
        raise HttpError(403, "the lock of this upload session has expired; start the upload again")
    return rec, current


def live_upload_session(ctx: Context, project: str) -> str | None:
    """The session hash of the upload that holds a live lock on ``project``, if any."""
    current = ctx.storage.get_bytes(lock_key(project))
    rec = _record(current) if current is not None else {}
    session = rec.get("session_hash")
    return session if rec.get("upload") and isinstance(session, str) and not _expired(rec) else None


def lock_is_held_by(ctx: Context, project: str, asset: str, version: str, lock_hash: str) -> bool:
    """For the folder upload target: does this session still hold a live lock on that version?"""
    current = ctx.storage.get_bytes(lock_key(project))
    if current is None:
        return False
    rec = _record(current)
    return (
        bool(lock_hash)
        and rec.get("session_hash") == lock_hash
        and rec.get("asset") == asset
        and rec.get("version") == version
        and not _expired(rec)
    )


def refuse_if_locked(ctx: Context, project: str) -> None:
    """403 at once when a live lock is on ``project``: upload start asks before reading its body
    (the caller would be refused after parsing it anyway). A hint only: :func:`acquire` decides."""
    current = ctx.storage.get_bytes(lock_key(project))
    if current is not None and not _expired(_record(current)):
        raise HttpError(403, LOCKED)
