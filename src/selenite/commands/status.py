"""`selenite status [--json] [--all]`: what changed in this tree since its last version, per path."""

from __future__ import annotations

import json
import os
from pathlib import Path

from selenite import linkmodes, output, worktree
from selenite.config import Settings
from selenite.workspace import open_tree

_LABELS = {
    worktree.UNCHANGED: "unchanged",
    worktree.MOVED: "moved",
    worktree.MODIFIED: "modified",
    worktree.NEW: "new",
    worktree.DELETED: "deleted",
    worktree.CONTENT_MISSING: "content missing",
    worktree.OBJECT_CORRUPTED: "object corrupted",
    worktree.OUTSIDE: "link outside the cache",
    worktree.DESTROYED: "destroyed link",
}


def status(settings: Settings, *, as_json: bool = False, show_all: bool = False) -> int:
    root, o, cache = open_tree(settings)
    entries = sorted(worktree.scan(root, cache), key=lambda e: e.path)
    cwd = settings.cwd
    if as_json:
        doc = {
            "origin": {"url": o.url, "project": o.project, "asset": o.asset, "version": o.version},
            "paths": [
                {"path": e.path, "status": e.status, "key": e.key.name if e.key else None,
                 "old_key": e.old_key.name if e.old_key else None}
                for e in entries if show_all or e.status != worktree.UNCHANGED
            ],
        }
        output.write(json.dumps(doc, indent=2))
        return 0
    counts: dict[str, int] = {}
    for e in entries:
        counts[e.status] = counts.get(e.status, 0) + 1
        if e.status == worktree.UNCHANGED and not show_all:
            continue
        shown = _relative(root / e.path, cwd)
        output.write(f"{_LABELS[e.status]:>22}  {output.printable(shown)}")
    summary = ", ".join(f"{n} {_LABELS[s]}" for s, n in sorted(counts.items())) or "no files"
    output.info(f"{o.project}/{o.asset}@{o.version}: {summary}")
    if linkmodes.has_record(root) and linkmodes.out_of_sync(root):
        output.info(f"note: the files here were placed from another version than {linkmodes.RECORD} names: "
                    "run `selenite get` to update them")
    return 0


def _relative(path: Path, cwd: Path) -> str:
    return os.path.relpath(path, cwd)
