"""The change logs under ``..logs/`` (gypsum-api.md §8): appended on every change, pruned after 7 days."""

from __future__ import annotations

import datetime
import secrets
import threading
import time
from typing import Any

from selenite.server.jsonfiles import dumps
from selenite.server.storage.base import Storage
from selenite.server.timestamps import iso_ms, now_iso

LOG_RETENTION = datetime.timedelta(days=7)
PRUNE_EVERY = 3600.0  # seconds: the worker's cron prunes hourly


class PruneSchedule:
    """When one server last pruned the logs (thread-safe: handlers run in a pool)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._last: float | None = None

    def due(self) -> bool:
        """True (and counted as done) when the last prune is over :data:`PRUNE_EVERY` seconds old."""
        with self._lock:
            now = time.monotonic()
            if self._last is not None and now - self._last < PRUNE_EVERY:
                return False
            self._last = now
            return True


def add_log(storage: Storage, schedule: PruneSchedule, entry: dict[str, Any]) -> None:
    """Append a change-log entry; once an hour also drop entries older than 7 days (the cron)."""
    for _ in range(5):
        name = f"..logs/{now_iso()}_{secrets.randbelow(900000) + 100000}"
        if storage.create_exclusive(name, dumps(entry), content_type="application/json"):
            break
    if schedule.due():
        prune_logs(storage)


def prune_logs(storage: Storage) -> int:
    """Delete the entries older than :data:`LOG_RETENTION`; how many went."""
    cutoff_name = "..logs/" + iso_ms(datetime.datetime.now(datetime.UTC) - LOG_RETENTION)
    removed = 0
    for key, _size in list(storage.list_recursive("..logs/")):
        if key < cutoff_name:  # ISO names compare as strings, as the worker's cron does
            storage.delete(key)
            removed += 1
    return removed
