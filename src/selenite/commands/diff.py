"""`selenite diff [A] [B] [--stat] [--json]`: what changed between two versions, or a version and the
working tree (compared by ``selenite.api.diff``, shared with ``selenite.diff``; printed here). Exit 0
when equal, 1 when they differ (like ``git diff --exit-code``), 2 on an error. The JSON schema is in
docs/user/history.md.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import Any

from selenite import output
from selenite.api.diff import Side, compare
from selenite.changes import Changes
from selenite.config import Settings
from selenite.errors import FatalError

ERROR = 2  # 1 means "they differ"


def diff(settings: Settings, refs: list[str], *, stat: bool = False, as_json: bool = False) -> int:
    """Exit code: 0 equal, 1 different, 2 on an error (said in one line on stderr)."""
    try:
        got = compare(settings, refs)
    except FatalError as e:
        output.error(f"selenite: error: {e}")
        return ERROR
    old, new, found = got
    if as_json:
        output.write(json.dumps(_document(old, new, found), indent=2))
    elif stat:
        _print_stat(old, new, found)
    else:
        _print_changes(found)
        output.info(f"{old} -> {new}: {_summary(found)}")
    return 0 if found.equal else 1


def _document(old: Side, new: Side, found: Changes) -> dict[str, Any]:
    return {
        "old": asdict(old),
        "new": asdict(new),
        "equal": found.equal,
        "added": [asdict(a) for a in found.added],
        "deleted": [asdict(d) for d in found.deleted],
        "modified": [asdict(m) for m in found.modified],
        "renamed": [asdict(r) for r in found.renamed],
        "totals": asdict(found.totals),
    }


def _print_changes(found: Changes) -> None:
    """One line per change, in path order (a rename at its new path): a letter as `git diff
    --name-status` prints it, the path, the sizes."""
    size = output.human_bytes
    lines: list[tuple[str, str]] = [(a.path, f"A  {_p(a.path)}  ({size(a.size)})") for a in found.added]
    lines += [(d.path, f"D  {_p(d.path)}  ({size(d.size)})") for d in found.deleted]
    lines += [(m.path, f"M  {_p(m.path)}  ({size(m.old_size)} -> {size(m.new_size)})") for m in found.modified]
    lines += [(r.new_path, f"R  {_p(r.old_path)} -> {_p(r.new_path)}  ({size(r.size)})") for r in found.renamed]
    for _, line in sorted(lines):
        output.write(line)


def _p(path: str) -> str:
    return output.printable(path)


def _summary(found: Changes) -> str:
    t = found.totals
    parts = [f"{n} {what}" for n, what in ((t.added, "added"), (t.deleted, "deleted"), (t.modified, "modified"),
                                           (t.renamed, "renamed")) if n]
    return ", ".join(parts) if parts else "no changes"


def _print_stat(old: Side, new: Side, found: Changes) -> None:
    t, size = found.totals, output.human_bytes
    output.write(_p(f"{old} -> {new}"))
    output.write(f"  {t.added} added ({size(t.added_bytes)}), {t.deleted} deleted ({size(t.deleted_bytes)}), "
                 f"{t.modified} modified ({size(t.modified_old_bytes)} -> {size(t.modified_new_bytes)}), "
                 f"{t.renamed} renamed ({size(t.renamed_bytes)}), {t.unchanged} unchanged")
    output.write(f"  {t.old_files} files ({size(t.old_bytes)}) -> {t.new_files} files ({size(t.new_bytes)})")
