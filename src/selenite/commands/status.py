"""`selenite status [--json] [--all]`: what changed in this tree since its last version, per path
(read by ``selenite.api.status``, shared with ``Tree.status``; printed here)."""

from __future__ import annotations

import json
import os
from pathlib import Path

from selenite import output
from selenite.api.status import status as scan
from selenite.config import Settings
from selenite.tree.entry import PathStatus
from selenite.tree.selection import Selection, selected

_LABELS = {
    PathStatus.UNCHANGED: "unchanged",
    PathStatus.MOVED: "moved",
    PathStatus.MODIFIED: "modified",
    PathStatus.NEW: "new",
    PathStatus.DELETED: "deleted",
    PathStatus.CONTENT_MISSING: "content missing",
    PathStatus.OBJECT_CORRUPTED: "object corrupted",
    PathStatus.OUTSIDE: "link outside the cache",
    PathStatus.DESTROYED: "destroyed link",
}


def status(settings: Settings, *, as_json: bool = False, show_all: bool = False, exit_code: bool = False) -> int:
    """Print each path's state; with ``exit_code``, 1 when the tree differs from its version (any
    path neither unchanged nor merely not fetched), like ``git diff --exit-code``; else 0."""
    found = scan(settings)
    from selenite.tree.records import RECORD  # noqa: PLC0415 -- after a tree was found (see api.status)

    o, root = found.origin, found.root
    code = 1 if exit_code and not found.clean else 0
    cwd = settings.cwd
    counts = found.counts()
    # Paths all unchanged and not listed: no entry is made at all (100,000 of them cost ~0.3 s, issue 15).
    entries = found.paths if show_all or set(counts) - {PathStatus.UNCHANGED} else []
    if as_json:
        doc = {
            "origin": {"url": o.url, "project": o.project, "asset": o.asset, "version": o.version},
            "paths": [
                {"path": e.path, "status": e.status, "key": e.key.name if e.key else None,
                 "old_key": e.old_key.name if e.old_key else None}
                for e in entries if show_all or e.status != PathStatus.UNCHANGED
            ],
        }
        output.write(json.dumps(doc, indent=2))
        return code
    # A pattern clone's paths outside its selection are counted, not listed (they are most of it).
    lacking = not show_all and any(e.status == PathStatus.CONTENT_MISSING for e in entries)
    selection = selected(root) if lacking else Selection()
    unselected = 0
    for e in entries:
        if e.status == PathStatus.UNCHANGED and not show_all:
            continue
        if e.status == PathStatus.CONTENT_MISSING and not selection(e.path):
            unselected += 1
            continue
        shown = _relative(root / e.path, cwd)
        output.write(f"{_LABELS[e.status]:>22}  {output.printable(shown)}")
    summary = ", ".join(f"{n} {_LABELS[s]}" for s, n in sorted(counts.items())) or "no files"
    output.info(f"{o.project}/{o.asset}@{o.version}: {summary}")
    if unselected:
        output.info(f"note: {unselected} of the paths without content are outside this tree's selection "
                    f"({selection.describe()}): not listed (`--all` lists them)")
    if found.out_of_sync:
        output.info(f"note: the files here were placed from another version than {RECORD} names: "
                    "run `selenite get` to update them")
    return code


def _relative(path: Path, cwd: Path) -> str:
    return os.path.relpath(path, cwd)
