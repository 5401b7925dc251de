"""What changed in a working tree since its version (``Tree.status``, `selenite status`), per path."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from selenite.config import Settings
from selenite.tree.entry import Entry, PathStatus
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
    paths: list[Entry]
    out_of_sync: bool = False

    @property
    def changed(self) -> list[Entry]:
        """The paths that differ from the version (content not fetched yet is no difference)."""
        return [e for e in self.paths if e.status not in _SAME]

    @property
    def clean(self) -> bool:
        """The tree holds its version unchanged (what `selenite status --exit-code` exits 0 for)."""
        return not self.changed


def status(settings: Settings) -> Status:
    """The status of the working tree around ``settings.cwd``."""
    root, o, cache = open_tree(settings)
    # After open_tree found a tree: outside one, status fails without loading the layouts (issue 15).
    from selenite.tree.layout import layout_of  # noqa: PLC0415

    layout = layout_of(root)
    entries = sorted(layout.scan(cache), key=lambda e: e.path)
    return Status(root, o, entries, layout.out_of_sync())
