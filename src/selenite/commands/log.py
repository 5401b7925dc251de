"""`selenite log [PROJECT/ASSET] [-n N] [--json]`: an asset's versions in the registry, newest first.

Each version costs one small request (its summary: uploader, times, probation); its file count and
bytes come from its manifest, read once and kept in the cache for finished, approved versions (they
are immutable), so a second `log` asks only for the summaries. Probational versions are listed,
marked: anyone may read them (gypsum-api.md §3.8). The JSON schema is in docs/user/history.md.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path

from selenite import gitrepo, names, output, registry
from selenite.api.log import PARALLEL, Entry, version_entries
from selenite.cache import Cache
from selenite.config import Settings
from selenite.errors import FatalError, NotAWorkingTree
from selenite.tree.anchor import tree_cache
from selenite.tree.origin import Origin, origin
from selenite.workspace import registry_endpoint


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
        entries = version_entries(client, cache, project, asset, max_count)
    if as_json:
        output.write(json.dumps([asdict(e) for e in entries], indent=2))
    else:
        _print(entries)
    return 0


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
