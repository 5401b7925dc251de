"""What every request handler needs: the storage, the settings and the counters."""

from __future__ import annotations

import asyncio
import threading
from dataclasses import dataclass, field

from selenite.server.changelog import PruneSchedule
from selenite.server.storage.base import Storage


@dataclass(frozen=True)
class ServerSettings:
    """Knobs of one server process (from `selenite serve` options)."""

    admins: tuple[str, ...] = ()
    lock_ttl: float = 3600.0  # seconds before an abandoned upload's project lock may be taken over
    presign_expiry: int = 3600  # seconds an upload URL stays valid (the worker's value)
    public_url: str | None = None  # base of the upload URLs; default: the URL the request came to
    max_json_bytes: int = 16 << 20  # largest JSON request body (413 beyond); bodies are read only up to it
    max_list_entries: int = 100_000  # largest recursive /list answer (400 beyond: list a narrower prefix)
    upload_idle_timeout: float = 60.0  # folder upload target: longest wait for the next body bytes
    max_session_puts: int = 64  # folder upload target: PUTs in progress per upload session (push -j max)


# json.loads of a body over LARGE_BODY bytes holds up to ~16 times the body while it runs (a list
# of 2-letter strings; denser lists of objects are refused before parsing, see http.json_body).
# Only LARGE_PARSES of them run at once, so parsing adds at most about 16 x --max-json-bytes
# (~260 MB at the 16 MiB default) however many clients send one. One is enough: an honest body
# that big is a manifest of 13,000+ files, and parsing one takes well under a second.
LARGE_BODY = 1 << 20
LARGE_PARSES = 1
# Bodies of POST /_selenite/upload-batch held at once (each at most batchupload.MAX_BODY, about twice
# that while checked): a bound on the memory batched uploads take, whatever the number of sessions.
BATCH_BODIES = 4
LARGE_PARSE_WAIT = 30.0  # seconds a big body waits for a parse slot before 503


STAT_NAMES = ("requests", "file_get", "file_get_bytes", "file_head", "list", "upload_put", "upload_put_bytes",
              "upload_batch", "upload_batch_bytes")


class Stats:
    """Counters since start for GET /_selenite/stats (thread-safe: handlers run in a pool)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts = dict.fromkeys(STAT_NAMES, 0)

    def add(self, name: str, n: int = 1) -> None:
        with self._lock:
            self._counts[name] += n

    def snapshot(self) -> dict[str, int]:
        with self._lock:
            return dict(self._counts)


@dataclass
class Context:
    storage: Storage
    settings: ServerSettings
    stats: Stats = field(default_factory=Stats)
    # The folder upload target's PUTs in progress (staging name / session hash -> count). Touched
    # on the event loop only, so without a lock.
    puts_by_target: dict[str, int] = field(default_factory=dict)
    puts_by_session: dict[str, int] = field(default_factory=dict)
    # Parses of big JSON bodies running at once (http.json_body tells why): at most LARGE_PARSES.
    large_parses: asyncio.Semaphore = field(default_factory=lambda: asyncio.Semaphore(LARGE_PARSES))
    batch_bodies: asyncio.Semaphore = field(default_factory=lambda: asyncio.Semaphore(BATCH_BODIES))
    log_prunes: PruneSchedule = field(default_factory=PruneSchedule)  # the change logs' hourly prune
