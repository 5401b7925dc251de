"""What changed between two listings of a version: added, deleted, modified and renamed paths.

A listing maps a path to its content, ``(md5, size)``, as a manifest holds it. Comparing two needs
no file: the client's ``diff`` compares two manifests (or a manifest and a scanned working tree),
the registry's web browser compares two versions it stores. Standard library only, and no other
selenite module, so both sides can import it.

A rename is a deleted path and an added path with the same content: the old path is gone from the
new listing and the new path was not in the old one. A path present on both sides is modified or
unchanged, never renamed, even if another path now holds its old content (a copy, not a move).
When several deleted and added paths share one content, the pairing is deterministic: first the
pairs whose file names (last component) match, each in path order, then the rest in path order;
what is left unpaired stays added or deleted.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass

Content = tuple[str, int]
"""A file's content as the registry identifies it: (md5 in lower-case hex, size in bytes)."""

Listing = Mapping[str, Content]
"""path -> content: a manifest, or a working tree's scan."""


@dataclass(frozen=True)
class Added:
    path: str
    size: int


@dataclass(frozen=True)
class Deleted:
    path: str
    size: int


@dataclass(frozen=True)
class Modified:
    path: str
    old_size: int
    new_size: int


@dataclass(frozen=True)
class Renamed:
    old_path: str
    new_path: str
    size: int


@dataclass(frozen=True)
class Totals:
    """Counts and bytes of each kind of change. ``unchanged`` counts paths the same on both sides;
    ``old_bytes``/``new_bytes`` are the sums over each whole listing."""

    added: int
    deleted: int
    modified: int
    renamed: int
    unchanged: int
    added_bytes: int
    deleted_bytes: int
    modified_old_bytes: int
    modified_new_bytes: int
    renamed_bytes: int
    old_files: int
    new_files: int
    old_bytes: int
    new_bytes: int


@dataclass(frozen=True)
class Changes:
    """Every list is sorted by path (``renamed`` by its new path)."""

    added: tuple[Added, ...]
    deleted: tuple[Deleted, ...]
    modified: tuple[Modified, ...]
    renamed: tuple[Renamed, ...]
    totals: Totals

    @property
    def equal(self) -> bool:
        """True when the two listings hold the same paths with the same content."""
        return not (self.added or self.deleted or self.modified or self.renamed)


def _basename(path: str) -> str:
    return path.rsplit("/", 1)[-1]


def _pair(old_paths: list[str], new_paths: list[str]) -> list[tuple[str, str]]:
    """Pair deleted with added paths of one content: same file name first, then path order.
    Linear in the paths (thousands of empty files share one content)."""
    by_name: dict[str, list[str]] = defaultdict(list)
    for new in sorted(new_paths, reverse=True):  # reversed: pop() takes the first in path order
        by_name[_basename(new)].append(new)
    pairs: list[tuple[str, str]] = []
    old_left: list[str] = []
    for old in sorted(old_paths):
        candidates = by_name.get(_basename(old))
        if candidates:
            pairs.append((old, candidates.pop()))
        else:
            old_left.append(old)
    taken = {new for _, new in pairs}
    new_left = [new for new in sorted(new_paths) if new not in taken]
    pairs.extend(zip(old_left, new_left, strict=False))
    return pairs


def compare(old: Listing, new: Listing) -> Changes:
    """The changes that turn listing ``old`` into listing ``new``."""
    gone = {p: c for p, c in old.items() if p not in new}
    came = {p: c for p, c in new.items() if p not in old}
    modified = [Modified(p, old[p][1], new[p][1]) for p in sorted(old.keys() & new.keys()) if old[p] != new[p]]

    gone_by_content: dict[Content, list[str]] = defaultdict(list)
    for p, c in gone.items():
        gone_by_content[c].append(p)
    came_by_content: dict[Content, list[str]] = defaultdict(list)
    for p, c in came.items():
        came_by_content[c].append(p)

    renamed: list[Renamed] = []
    for content, olds in gone_by_content.items():
        for old_path, new_path in _pair(olds, came_by_content.get(content, [])):
            renamed.append(Renamed(old_path, new_path, content[1]))
            del gone[old_path], came[new_path]
    renamed.sort(key=lambda r: (r.new_path, r.old_path))

    added = tuple(Added(p, came[p][1]) for p in sorted(came))
    deleted = tuple(Deleted(p, gone[p][1]) for p in sorted(gone))
    totals = Totals(
        added=len(added),
        deleted=len(deleted),
        modified=len(modified),
        renamed=len(renamed),
        unchanged=len(old) - len(deleted) - len(modified) - len(renamed),
        added_bytes=sum(a.size for a in added),
        deleted_bytes=sum(d.size for d in deleted),
        modified_old_bytes=sum(m.old_size for m in modified),
        modified_new_bytes=sum(m.new_size for m in modified),
        renamed_bytes=sum(r.size for r in renamed),
        old_files=len(old),
        new_files=len(new),
        old_bytes=sum(size for _, size in old.values()),
        new_bytes=sum(size for _, size in new.values()),
    )
    return Changes(added, deleted, tuple(modified), tuple(renamed), totals)
