"""An asset's versions in the registry, newest first (``selenite.versions``, `selenite log`).

Each version costs one small request (its summary: uploader, times, probation); its file count and
bytes come from its manifest, read once and kept in the cache for finished, approved versions (they
are immutable). Probational versions are listed, marked: anyone may read them (gypsum-api.md §3.8).
"""

from __future__ import annotations

import datetime
import math
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from selenite import lookup, output, registry
from selenite.cache import Cache
from selenite.errors import FatalError, NotFound

PARALLEL = 8  # summaries and manifests in flight at once: small requests, latency-bound


@dataclass(frozen=True)
class Entry:
    """One version as `log --json` prints it (the documented schema: keep it stable)."""

    project: str
    asset: str
    version: str
    uploader: str | None
    started: str | None
    finished: str | None  # None while the upload is under way
    probation: bool
    latest: bool
    files: int | None  # None when unknown (upload under way, or a manifest the registry lost)
    bytes: int | None


def version_entries(client: registry.RegistryClient, cache: Cache, project: str, asset: str,
                    max_count: int | None = None) -> list[Entry]:
    """The asset's versions, newest first (at most ``max_count``): one summary request each; files
    and bytes from manifests (kept in the cache once finished and approved)."""
    names_ = client.list_versions(project, asset)
    if not names_:
        if project not in client.list_projects() or asset not in client.list_assets(project):
            raise lookup.explain_missing(client, project, asset, None)
        return []
    latest = client.latest(project, asset)
    with ThreadPoolExecutor(max_workers=min(PARALLEL, len(names_))) as pool:
        found = [(v, s) for v, s in zip(names_, pool.map(lambda v: _summary(client, project, asset, v), names_),
                                        strict=True) if s is not None]
        found.sort(key=lambda vs: (_finished_at(vs[1]), vs[0]), reverse=True)  # newest first
        found = found[:max_count] if max_count else found
        totals = list(pool.map(lambda vs: _totals(client, cache, project, asset, *vs), found))
    return [
        Entry(project, asset, v, _text(s.get("upload_user_id")), _text(s.get("upload_start")),
              _text(s.get("upload_finish")), bool(s.get("on_probation")), v == latest, *t)
        for (v, s), t in zip(found, totals, strict=True)
    ]


def _summary(client: registry.RegistryClient, project: str, asset: str, version: str) -> dict[str, Any] | None:
    try:
        return client.summary(project, asset, version)
    except NotFound:
        return None  # removed since the listing, or a folder that is not a version: not shown


def _totals(client: registry.RegistryClient, cache: Cache, project: str, asset: str, version: str,
            summary: dict[str, Any]) -> tuple[int | None, int | None]:
    if not summary.get("upload_finish"):
        return None, None
    try:
        found = lookup.contents(client, cache, project, asset, version, summary)
    except FatalError as e:
        output.info(f"note: {project}/{asset}/{version}: {e}")
        return None, None
    return len(found), sum(size for _, size in found.values())


def _finished_at(summary: dict[str, Any]) -> float:
    """Seconds since the epoch of the version's finish: +inf while its upload is under way (listed
    first), -inf for a time that is not ISO 8601 (listed last). Parsed, not compared as text: a
    registry may write another offset than gypsum's 'Z'."""
    value = summary.get("upload_finish")
    if not value:
        return math.inf
    try:
        t = datetime.datetime.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        t = None
    if t is None:
        return -math.inf
    return (t if t.tzinfo else t.replace(tzinfo=datetime.UTC)).timestamp()


def _text(value: object) -> str | None:
    return value if isinstance(value, str) and value else None
