"""The protocol's internal files (gypsum-api.md §2): key names, JSON I/O, usage, latest, logs."""

from __future__ import annotations

import datetime
import hashlib
import json
import secrets
import threading
import time
from typing import Any

from selenite.server.errors import HttpError
from selenite.server.storage.base import Storage, is_internal

LOG_RETENTION = datetime.timedelta(days=7)
DEFAULT_QUOTA = {"baseline": 10_000_000_000, "growth_rate": 20_000_000_000}


# --- keys --------------------------------------------------------------------------------------


def permissions_key(p: str) -> str:
    return f"{p}/..permissions"


def quota_key(p: str) -> str:
    return f"{p}/..quota"


def usage_key(p: str) -> str:
    return f"{p}/..usage"


def lock_key(p: str) -> str:
    return f"{p}/..LOCK"


def latest_key(p: str, a: str) -> str:
    return f"{p}/{a}/..latest"


def version_prefix(p: str, a: str, v: str) -> str:
    return f"{p}/{a}/{v}/"


def summary_key(p: str, a: str, v: str) -> str:
    return f"{p}/{a}/{v}/..summary"


def manifest_key(p: str, a: str, v: str) -> str:
    return f"{p}/{a}/{v}/..manifest"


def staging_prefix(p: str, session_hash: str) -> str:
    """Where one upload session's bytes wait in the staging area (see selenite.server.staging)."""
    return f"{p}/{hashlib.sha256(session_hash.encode()).hexdigest()[:32]}/"


# --- JSON --------------------------------------------------------------------------------------


def now_iso() -> str:
    """``Date.toISOString()``: UTC, milliseconds, 'Z' (what gypsum_client's date parser expects)."""
    return datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def parse_time(value: object) -> float | None:
    """Seconds since the epoch of an ISO-8601 string, or None when it is not one."""
    if not isinstance(value, str):
        return None
    try:
        t = datetime.datetime.fromisoformat(value)
    except ValueError:
        return None
    if t.tzinfo is None:  # Date.parse reads a date-time without offset as local time: UTC on Workers
        t = t.replace(tzinfo=datetime.UTC)
    return t.timestamp()


def dumps(obj: Any) -> bytes:
    """Compact like ``JSON.stringify``, key order kept."""
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def read_json(storage: Storage, key: str, must: bool = True) -> Any:
    data = storage.get_bytes(key)
    if data is None:
        if must:
            raise HttpError(500, f"no file at '{key}'")
        return None
    try:
        return json.loads(data)
    except ValueError as e:
        raise HttpError(500, f"failed to parse JSON; {e}") from None


def write_json(storage: Storage, key: str, obj: Any) -> None:
    storage.put_bytes(key, dumps(obj), content_type="application/json")


# --- usage and quota ---------------------------------------------------------------------------


def user_bytes(freed: dict[str, int]) -> int:
    return sum(size for key, size in freed.items() if not is_internal(key))


def add_usage(storage: Storage, project: str, delta: int) -> None:
    """``..usage.total += delta``, clamped at 0; nothing when the project has no usage file."""
    usage = read_json(storage, usage_key(project), must=False)
    if not isinstance(usage, dict):
        return
    total = usage.get("total", 0)
    usage["total"] = max(0, (total if isinstance(total, (int, float)) else 0) + delta)
    write_json(storage, usage_key(project), usage)


def count_usage(storage: Storage, project: str) -> int:
    return sum(size for key, size in storage.list_recursive(f"{project}/") if not is_internal(key))


def compute_quota(quota: dict[str, Any]) -> float:
    year = datetime.datetime.now(datetime.UTC).year
    return float(quota["baseline"]) + (year - float(quota["year"])) * float(quota["growth_rate"])


# --- latest ------------------------------------------------------------------------------------


def recompute_latest(storage: Storage, project: str, asset: str) -> str | None:
    """§7.4, minus quirk #4: the newest *finished*, non-probational version; ..latest follows."""
    prefix = f"{project}/{asset}/"
    best: tuple[float, str] | None = None
    for entry in storage.list_dir(prefix):
        name = entry[len(prefix):]
        if not name.endswith("/") or name.startswith(".."):
            continue
        version = name[:-1]
        summary = read_json(storage, summary_key(project, asset, version), must=False)
        if not isinstance(summary, dict) or summary.get("on_probation"):
            continue
        finished = parse_time(summary.get("upload_finish"))
        if finished is None:  # unfinished (or garbage): never the latest
            continue
        if best is None or finished > best[0]:
            best = (finished, version)
    if best is None:
        storage.delete(latest_key(project, asset))
        return None
    write_json(storage, latest_key(project, asset), {"version": best[1]})
    return best[1]


# --- change logs (§8) --------------------------------------------------------------------------

_last_prune = 0.0
_prune_lock = threading.Lock()


def add_log(storage: Storage, entry: dict[str, Any]) -> None:
    """Append a change-log entry; once an hour also drop entries older than 7 days (the cron)."""
    for _ in range(5):
        name = f"..logs/{now_iso()}_{secrets.randbelow(900000) + 100000}"
        if storage.create_exclusive(name, dumps(entry), content_type="application/json"):
            break
    prune_logs(storage)


def prune_logs(storage: Storage, force: bool = False) -> int:
    global _last_prune
    with _prune_lock:
        if not force and time.monotonic() - _last_prune < 3600:
            return 0
        _last_prune = time.monotonic()
    cutoff = datetime.datetime.now(datetime.UTC) - LOG_RETENTION
    cutoff_name = "..logs/" + cutoff.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
    removed = 0
    for key, _size in list(storage.list_recursive("..logs/")):
        if key < cutoff_name:  # ISO names compare as strings, as the worker's cron does
            storage.delete(key)
            removed += 1
    return removed
