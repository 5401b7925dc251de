"""`selenite status [--json] [--all]`: what changed in this tree since its last version, per path."""

from __future__ import annotations

import json
import os
from pathlib import Path

from selenite import output
from selenite.config import Settings
from selenite.tree.entry import Entry, PathStatus
from selenite.tree.selection import Selection, selected
from selenite.workspace import open_tree

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
    root, o, cache = open_tree(settings)
    # After open_tree found a tree: outside one, status fails without loading the layouts (issue 15).
    from selenite.tree.layout import layout_of  # noqa: PLC0415
    from selenite.tree.records import RECORD  # noqa: PLC0415

    layout = layout_of(root)
    entries = sorted(layout.scan(cache), key=lambda e: e.path)
    cwd = settings.cwd
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
        return _code(entries, exit_code)
    counts: dict[PathStatus, int] = {}
    # A pattern clone's paths outside its selection are counted, not listed (they are most of it).
    lacking = not show_all and any(e.status == PathStatus.CONTENT_MISSING for e in entries)
    selection = selected(root) if lacking else Selection()
    unselected = 0
    for e in entries:
        counts[e.status] = counts.get(e.status, 0) + 1
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
    if layout.out_of_sync():
        output.info(f"note: the files here were placed from another version than {RECORD} names: "
                    "run `selenite get` to update them")
    return _code(entries, exit_code)


# Not a difference: a link whose content is not fetched yet is still the version's file.
_SAME = (PathStatus.UNCHANGED, PathStatus.CONTENT_MISSING)


def _code(entries: list[Entry], exit_code: bool) -> int:
    return 1 if exit_code and any(e.status not in _SAME for e in entries) else 0


def _relative(path: Path, cwd: Path) -> str:
    return os.path.relpath(path, cwd)
