"""A project's usage (``..usage``) and quota (``..quota``): gypsum-api.md §5."""

from __future__ import annotations

import datetime
from typing import Any

from selenite.server.jsonfiles import read_json, write_json
from selenite.server.keyspace import usage_key
from selenite.server.storage.base import Storage, is_internal

DEFAULT_QUOTA = {"baseline": 10_000_000_000, "growth_rate": 20_000_000_000}


def user_bytes(freed: dict[str, int]) -> int:
    """The bytes of a deletion's ``{key: size}`` that count towards usage (internal files do not)."""
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
    """What ``..usage.total`` should be: the size of every non-internal key under the project."""
    return sum(size for key, size in storage.list_recursive(f"{project}/") if not is_internal(key))


def compute_quota(quota: dict[str, Any]) -> float:
    """baseline + (this year - year) x growth_rate."""
    year = datetime.datetime.now(datetime.UTC).year
    return float(quota["baseline"]) + (year - float(quota["year"])) * float(quota["growth_rate"])
