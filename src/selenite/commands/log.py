"""`selenite log [PROJECT/ASSET] [-n N] [--json]`: an asset's versions in the registry, newest first.

Each version costs one small request (its summary: uploader, times, probation); its file count and
bytes come from its manifest, read once and kept in the cache for finished, approved versions (they
are immutable), so a second `log` asks only for the summaries. Probational versions are listed,
marked: anyone may read them (gypsum-api.md §3.8). The JSON schema is in docs/user/history.md.
"""

from __future__ import annotations

import datetime
import json
import math
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from selenite import gitrepo, names, output, registry, versions
from selenite.cache import Cache
from selenite.config import Settings
from selenite.errors import FatalError, NotAWorkingTree, NotFound
from selenite.tree.anchor import tree_cache
from selenite.tree.origin import Origin, origin
from selenite.workspace import registry_endpoint

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


def _tree(cwd: Path) -> tuple[Path, Origin] | None:
    try:
        root = gitrepo.find_root(cwd)
        o = origin(root)
    except (NotAWorkingTree, FatalError):
        return None
    return (root, o) if o is not None else None


def split_asset(target: str) -> tuple[str, str]:
    """PROJECT/ASSET, each name checked as the registry checks names."""
    parts = target.split("/")
    if len(parts) != 2 or "@" in target:
        raise FatalError(f"{output.printable(target)!r}: expected PROJECT/ASSET")
    for kind, name in zip(("project", "asset"), parts, strict=True):
        if (why := names.name_problem(kind, name)) is not None:
            raise FatalError(f"{output.printable(target)!r}: {why}")
    return parts[0], parts[1]


def log(settings: Settings, target: str | None, *, max_count: int | None = None, as_json: bool = False) -> int:
    tree = _tree(settings.cwd)
    if target is not None:  # a registry-level question: the registry every such verb asks
        project, asset = split_asset(target)
        url = registry_endpoint(settings).url
    elif tree is not None:  # the tree's asset, in the tree's registry
        project, asset = tree[1].project, tree[1].asset
        url = settings.endpoint(tree[1].url).url
    else:
        raise NotAWorkingTree("not inside a selenite working tree: name the asset (selenite log PROJECT/ASSET)")
    cache = tree_cache(tree[0], settings.cache_dir) if tree is not None else Cache(settings.cache_dir)
    with registry.session_for(url, jobs=PARALLEL) as client:
        entries = _entries(client, cache, project, asset, max_count)
    if as_json:
        output.write(json.dumps([asdict(e) for e in entries], indent=2))
    else:
        _print(entries)
    return 0


def _entries(client: registry.RegistryClient, cache: Cache, project: str, asset: str,
             max_count: int | None) -> list[Entry]:
    names_ = client.list_versions(project, asset)
    if not names_:
        if project not in client.list_projects() or asset not in client.list_assets(project):
            raise versions.explain_missing(client, project, asset, None)
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
        found = versions.contents(client, cache, project, asset, version, summary)
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


def _print(entries: list[Entry]) -> None:
    rows = []
    for e in entries:
        marks = ", ".join(m for m, on in (("latest", e.latest), ("probation", e.probation),
                                           ("uploading", e.finished is None)) if on)
        files = "?" if e.files is None else f"{e.files:,}"
        size = "?" if e.bytes is None else output.human_bytes(e.bytes)
        when = (e.finished or e.started or "").replace("T", " ")
        rows.append((e.version, when, e.uploader or "?", f"{files} files", size, f"({marks})" if marks else ""))
    shown = [[output.printable(c) for c in r] for r in rows]  # names and times are the registry's
    widths = [max((len(r[i]) for r in shown), default=0) for i in range(6)]
    for r in shown:
        cells = [c.rjust(w) if i in (3, 4) else c.ljust(w) for i, (c, w) in enumerate(zip(r, widths, strict=True))]
        output.write("  ".join(cells).rstrip())
