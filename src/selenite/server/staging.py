"""Upload staging: where an upload session's bytes wait until ``complete`` moves them into place.

Every upload URL (the folder backend's own target, or an S3 presigned PutObject) writes into the
storage's staging area under ``{project}/{session}/{path}`` (``keyspace.staging_prefix``), never into
the version: nothing there is served, listed or counted. Only ``complete``, after checking that its
session still holds a live lock, checks each staged object's size and md5 and promotes it into the
version. So a PUT that finishes after its session was aborted, completed (and maybe approved) or
expired changes no published byte, on either backend.

Staged bytes of dead sessions go away on ``abort``, on lock take-over, and in the sweep below, which
every ``selenite serve`` runs in the background (S3: a bucket lifecycle rule on ``staging/`` is the
backstop, docs/operate/deploy.md).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from selenite.server import locks
from selenite.server.context import Context
from selenite.server.keyspace import staging_prefix

log = logging.getLogger("selenite.server")

SWEEP_EVERY_MAX = 300.0  # seconds; shorter when --lock-ttl is shorter


def discard(ctx: Context, project: str, session_hash: str) -> None:
    """Delete every byte one session staged."""
    ctx.storage.delete_staged(staging_prefix(project, session_hash))


def sweep(ctx: Context) -> int:
    """Delete the staged bytes of every session that no longer holds a live lock; count of objects.

    Names are listed BEFORE the locks are read: a session whose bytes were listed had started
    already, so if its project's lock does not name it now, it is dead for good."""
    sessions: dict[str, set[str]] = {}
    for name, _size in ctx.storage.list_staged(""):
        parts = name.split("/", 2)
        if len(parts) < 3:
            continue  # not ours (staging names are always project/session/path)
        project, session, _ = parts
        sessions.setdefault(project, set()).add(f"{project}/{session}/")
    removed = 0
    for project, prefixes in sessions.items():
        live = locks.live_upload_session(ctx, project)
        keep = staging_prefix(project, live) if live else None
        for prefix in prefixes - {keep}:
            removed += len(ctx.storage.delete_staged(prefix))
    return removed


def start_sweeper(ctx: Context) -> Callable[[], None]:
    """Run :func:`sweep` in a daemon thread every few minutes; returns the function that stops it."""
    every = max(1.0, min(SWEEP_EVERY_MAX, ctx.settings.lock_ttl))
    stop = threading.Event()

    def run() -> None:
        while not stop.wait(every):
            try:
                sweep(ctx)
            except Exception:  # a storage hiccup: try again next round
                log.exception("staging sweep failed")

    thread = threading.Thread(target=run, name="selenite-staging-sweep", daemon=True)
    thread.start()

    def stop_sweeper() -> None:
        stop.set()
        thread.join(timeout=5)

    return stop_sweeper
