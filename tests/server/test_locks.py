"""server.locks: one upload (or admin operation) per project at a time, with expiry and take-over."""

from __future__ import annotations

import hashlib
import json
import uuid
from pathlib import Path

import pytest

from selenite.server import locks
from selenite.server.context import Context, ServerSettings
from selenite.server.errors import HttpError
from selenite.server.keyspace import lock_key, staging_prefix, summary_key
from selenite.server.storage.folder import FolderStorage

P, A, V = "proj", "asset", "v1"


def context(root: Path, lock_ttl: float = 3600.0) -> Context:
    return Context(storage=FolderStorage(root), settings=ServerSettings(lock_ttl=lock_ttl))


@pytest.fixture
def ctx(tmp_path: Path) -> Context:
    return context(tmp_path / "registry")


def refused(fn: object, *args: object, **kw: object) -> str:
    assert callable(fn)
    with pytest.raises(HttpError) as e:
        fn(*args, **kw)
    assert e.value.status == 403
    return str(e.value.reason)


def lock_record(ctx: Context) -> dict[str, object]:
    raw = ctx.storage.get_bytes(lock_key(P))
    assert raw is not None
    rec = json.loads(raw)
    assert isinstance(rec, dict)
    return rec


def expire(ctx: Context) -> None:
    """Backdate the project's lock: its holder is gone and its time is up."""
    rec = lock_record(ctx)
    rec["expires_at"] = "2000-01-01T00:00:00.000Z"
    ctx.storage.put_bytes(lock_key(P), json.dumps(rec).encode())


def test_one_holder_at_a_time_and_the_holder_can_release(ctx: Context) -> None:
    token = locks.acquire(ctx, P, A, V, upload=True)
    assert uuid.UUID(token).version == 4
    rec = lock_record(ctx)
    assert (rec["asset"], rec["version"], rec["upload"]) == (A, V, True)
    assert rec["session_hash"] == locks.session_hash(token)
    assert refused(locks.acquire, ctx, P, A, "v2") == locks.LOCKED
    assert refused(locks.refuse_if_locked, ctx, P) == locks.LOCKED
    assert locks.live_upload_session(ctx, P) == rec["session_hash"]
    locks.release(ctx, P, str(uuid.uuid4()))  # someone else's session: the lock stays
    assert ctx.storage.get_bytes(lock_key(P)) is not None
    locks.release(ctx, P, token)
    assert ctx.storage.get_bytes(lock_key(P)) is None
    locks.refuse_if_locked(ctx, P)
    assert locks.live_upload_session(ctx, P) is None
    locks.release(ctx, P, token)  # nothing to release: fine


def test_a_session_is_checked_against_the_lock(ctx: Context) -> None:
    assert refused(locks.check_session, ctx, P, A, V, str(uuid.uuid4())) == \
        "project has not been previously locked for upload"
    token = locks.acquire(ctx, P, A, V, upload=True)
    assert refused(locks.check_session, ctx, P, A, V, "not-a-uuid") == "session token does not look like a v4 UUID"
    assert refused(locks.check_session, ctx, P, A, V, str(uuid.uuid4())) == \
        "project was locked for a different upload session"
    assert refused(locks.check_session, ctx, P, "other", V, token) == \
        "project was locked for upload of a different asset"
    assert refused(locks.check_session, ctx, P, A, "v9", token) == \
        "project was locked for upload of a different version"
    rec, raw = locks.check_session(ctx, P, A, V, token)
    assert rec["asset"] == A and raw == ctx.storage.get_bytes(lock_key(P))
    assert locks.lock_is_held_by(ctx, P, A, V, str(rec["session_hash"]))
    assert not locks.lock_is_held_by(ctx, P, A, "v9", str(rec["session_hash"]))
    assert not locks.lock_is_held_by(ctx, P, A, V, "")
    expire(ctx)
    assert refused(locks.check_session, ctx, P, A, V, token).startswith("the lock of this upload session has expired")
    assert locks.check_session(ctx, P, A, V, token, allow_expired=True)[0]["asset"] == A
    assert not locks.lock_is_held_by(ctx, P, A, V, str(rec["session_hash"]))
    assert locks.live_upload_session(ctx, P) is None
    locks.refuse_if_locked(ctx, P)  # an expired lock does not refuse


def test_lock_is_held_by_nothing_when_there_is_no_lock(ctx: Context) -> None:
    assert not locks.lock_is_held_by(ctx, P, A, V, "x")


def test_an_expired_upload_lock_is_taken_over_with_its_unfinished_version_and_staged_bytes(ctx: Context) -> None:
    token = locks.acquire(ctx, P, A, V, upload=True)
    ctx.storage.put_bytes(f"{P}/{A}/{V}/half.bin", b"partial")
    staged = staging_prefix(P, locks.session_hash(token)) + "f1"
    ctx.storage.state_put("unrelated", b"kept")
    spool_dir = ctx.storage.spool_dir()
    assert spool_dir is not None
    spool = Path(spool_dir) / "f"
    spool.write_bytes(b"staged bytes")
    ctx.storage.stage_file(staged, str(spool), md5_hex=hashlib.md5(b"staged bytes").hexdigest())
    assert ctx.storage.head_staged(staged) is not None
    expire(ctx)
    new = locks.acquire(ctx, P, "other", "v2")
    assert new != token and lock_record(ctx)["asset"] == "other"
    assert ctx.storage.get_bytes(f"{P}/{A}/{V}/half.bin") is None
    assert ctx.storage.head_staged(staged) is None
    assert ctx.storage.state_get("unrelated") == b"kept"


@pytest.mark.parametrize("record", [
    {"upload": True, "asset": "", "version": V},  # no version to clean up, no session to unstage
    {"upload": False, "asset": A, "version": V, "session_hash": "h"},  # an admin operation's lock
])
def test_an_expired_lock_without_an_upload_to_clean_is_simply_removed(ctx: Context, record: dict[str, object]) -> None:
    ctx.storage.put_bytes(f"{P}/{A}/{V}/kept.bin", b"kept")
    raw = json.dumps({**record, "expires_at": "2000-01-01T00:00:00.000Z"}).encode()
    ctx.storage.put_bytes(lock_key(P), raw)
    assert locks.take_over_if_expired(ctx, P, raw)
    assert ctx.storage.get_bytes(lock_key(P)) is None
    assert ctx.storage.get_bytes(f"{P}/{A}/{V}/kept.bin") == b"kept"


def test_a_finished_version_survives_the_take_over_of_an_expired_lock(ctx: Context) -> None:
    locks.acquire(ctx, P, A, V, upload=True)
    ctx.storage.put_bytes(f"{P}/{A}/{V}/done.bin", b"done")
    ctx.storage.put_bytes(summary_key(P, A, V), json.dumps({"upload_finish": "2020"}).encode())
    expire(ctx)
    locks.acquire(ctx, P, A, "v2")
    assert ctx.storage.get_bytes(f"{P}/{A}/{V}/done.bin") == b"done"


def test_a_live_lock_or_a_lock_without_expiry_is_never_taken_over(ctx: Context) -> None:
    locks.acquire(ctx, P, A, V)
    raw = ctx.storage.get_bytes(lock_key(P))
    assert raw is not None and not locks.take_over_if_expired(ctx, P, raw)
    ctx.storage.put_bytes(lock_key(P), b'{"asset": "a", "version": "v"}')  # written by hand: no expiry
    assert refused(locks.acquire, ctx, P, A, "v2") == locks.LOCKED
    ctx.storage.put_bytes(lock_key(P), b"[not, a, record")
    assert refused(locks.acquire, ctx, P, A, "v2") == locks.LOCKED


def test_only_one_taker_wins_an_expired_lock(ctx: Context) -> None:
    locks.acquire(ctx, P, A, V, upload=True)
    expire(ctx)
    raw = ctx.storage.get_bytes(lock_key(P))
    assert raw is not None
    assert locks.take_over_if_expired(ctx, P, raw)
    # A second taker that read the same record: its one-shot marker is already taken.
    ctx.storage.put_bytes(lock_key(P), raw)
    assert not locks.take_over_if_expired(ctx, P, raw)


def test_a_lock_that_changed_hands_is_not_taken_over(ctx: Context) -> None:
    locks.acquire(ctx, P, A, V)
    expire(ctx)
    stale = ctx.storage.get_bytes(lock_key(P))
    assert stale is not None
    ctx.storage.put_bytes(lock_key(P), stale + b" ")  # someone else's lock now
    assert not locks.take_over_if_expired(ctx, P, stale)


def test_holding_releases_after_an_admin_operation_even_when_it_fails(ctx: Context) -> None:
    with locks.holding(ctx, P, A, V) as token:
        assert lock_record(ctx)["session_hash"] == locks.session_hash(token)
        assert lock_record(ctx)["upload"] is False
    assert ctx.storage.get_bytes(lock_key(P)) is None
    with pytest.raises(RuntimeError), locks.holding(ctx, P, A, V):
        raise RuntimeError("the operation failed")
    assert ctx.storage.get_bytes(lock_key(P)) is None
