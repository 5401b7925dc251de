"""What changed in a working tree since its version (``Tree.status``, `selenite status`), per path."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from selenite.config import Settings
from selenite.tree.entry import Entry, PathStatus, UnchangedPaths
from selenite.tree.origin import Origin
from selenite.workspace import open_tree

# Not a difference: a link whose content is not fetched yet is still the version's file.
_SAME = (PathStatus.UNCHANGED, PathStatus.CONTENT_MISSING)


@dataclass(frozen=True)
class Status:
    """A working tree compared with the version it holds.

    ``root``: the tree's top folder; ``origin``: its registry, project, asset and version;
    ``paths``: every path, sorted, each an ``Entry`` (``path``; ``status``, a ``PathStatus``;
    ``key`` and ``old_key``: the content now and in the version); ``out_of_sync``: a hardlink or
    copy tree whose files were placed from another version than it records (``Tree.get`` updates them).
    """

    root: Path
    origin: Origin
    _found: list[Entry] | UnchangedPaths = field(repr=False)
    out_of_sync: bool = False

    @cached_property
    def paths(self) -> list[Entry]:
        """Every path, sorted (made on first use when the scan could tell them all unchanged)."""
        found = self._found
        return sorted(found.entries() if isinstance(found, UnchangedPaths) else found, key=lambda e: e.path)

    @property
    def changed(self) -> list[Entry]:
        """The paths that differ from the version (content not fetched yet is no difference)."""
        return [] if isinstance(self._found, UnchangedPaths) else [e for e in self.paths if e.status not in _SAME]

    @property
    def clean(self) -> bool:
        """The tree holds its version unchanged (what `selenite status --exit-code` exits 0 for)."""
        return not self.changed

    def counts(self) -> dict[PathStatus, int]:
        """How many paths have each status (no ``Entry`` made when all are unchanged)."""
        if isinstance(self._found, UnchangedPaths):
            return {PathStatus.UNCHANGED: len(self._found)} if len(self._found) else {}
        return dict(Counter(e.status for e in self.paths))


def status(settings: Settings) -> Status:
    """The status of the working tree around ``settings.cwd``."""
    root, o, cache = open_tree(settings)
    # After open_tree found a tree: outside one, status fails without loading the layouts (issue 15).
    from selenite.tree.layout import layout_of  # noqa: PLC0415

    layout = layout_of(root)
    return Status(root, o, layout.survey(cache), layout.out_of_sync())
