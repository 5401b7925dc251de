"""What a scan of a working tree says about each path: an ``Entry`` with a ``PathStatus``.

Both layouts (symlinks, and the hardlink/copy records) classify paths with this one vocabulary,
so status, push, get and the other commands never need to know which layout they look at.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from enum import StrEnum
from pathlib import Path
from typing import NamedTuple

from selenite.errors import FatalError
from selenite.keys import Key, try_parse_keys


class PathStatus(StrEnum):
    """How a path compares with the tree's last version (the values are what `status --json` prints)."""

    UNCHANGED = "unchanged"
    MOVED = "moved"  # names content the last version had at another path
    MODIFIED = "modified"
    NEW = "new"
    DELETED = "deleted"
    CONTENT_MISSING = "missing"  # known content, not in the cache (or not placed) yet
    OBJECT_CORRUPTED = "corrupted"  # the cache object no longer matches its key
    OUTSIDE = "outside"  # a link that does not reach the cache through the anchor
    DESTROYED = "destroyed"  # a regular file holding only a link's text


class Entry(NamedTuple):
    """One path of the working tree, classified.

    ``key`` is the key a link names (links into the anchor, and destroyed files: the key of the
    text they hold) or the content a real file is known to hold; ``old_key`` the key the last
    version holds at this path; ``target`` the link text when the path is a symlink.
    """

    path: str
    status: PathStatus
    key: Key | None = None
    old_key: Key | None = None
    target: str | None = None


def status_of(key: Key, old: Key | None, last_keys: set[Key]) -> PathStatus:
    """How a path now naming ``key`` compares with the last version's ``old`` at that path."""
    if old == key:
        return PathStatus.UNCHANGED
    if old is not None:
        return PathStatus.MODIFIED
    return PathStatus.MOVED if key in last_keys else PathStatus.NEW


def select(entries: Iterable[Entry], root: Path, paths: Sequence[Path], cwd: Path) -> list[Entry]:
    """Entries under the user's PATHS (files or folders, relative to ``cwd``); all when empty."""
    if not paths:
        return list(entries)
    wanted = tree_paths(root, paths, cwd)
    entries = list(entries)
    for p, w in zip(paths, wanted, strict=True):
        # A typo must not look like success ("nothing to get"): name what is not there.
        if w != "." and not os.path.lexists(root / w) and not any(_under(e.path, w) for e in entries):
            raise FatalError(f"{p}: no such file or folder in the working tree")
    if "." in wanted:
        return entries
    return [e for e in entries if any(_under(e.path, w) for w in wanted)]


def tree_paths(root: Path, paths: Sequence[Path], cwd: Path) -> list[str]:
    """The user's PATHS (relative to ``cwd``) as paths of the tree (``.``: its top); one outside
    the tree is refused."""
    wanted: list[str] = []
    for p in paths:
        full = Path(os.path.abspath(cwd / p))
        try:
            rel = full.relative_to(root)
        except ValueError:
            raise FatalError(f"{p} is outside the working tree {root}") from None
        wanted.append(rel.as_posix())
    return wanted


def _under(path: str, folder: str) -> bool:
    return path == folder or path.startswith(folder + "/")


class UnchangedPaths:
    """A tree holding its version unchanged, as the stamps told it without reading a path
    (``tree.vouched.unchanged_paths``): the index listing (``git ls-files -s -z``, every entry a
    link) and each link's object (``keys.object_relpath``), in index order. Status counts them;
    ``entries`` makes an ``Entry`` per path only when asked."""

    def __init__(self, listing: str, tails: list[str]) -> None:
        self.listing, self.tails = listing, tails

    def __len__(self) -> int:
        return len(self.tails)

    def entries(self) -> list[Entry]:
        """Every path as an unchanged ``Entry``."""
        from selenite.tree.links import link_text_of_tail  # noqa: PLC0415 -- links imports nothing of the tree

        paths = [rec.partition("\t")[2] for rec in self.listing.split("\0") if rec]
        keys = try_parse_keys([t[t.rfind("/") + 1:] for t in self.tails])
        if keys is None or len(paths) != len(keys):  # only a stamp written by hand
            raise FatalError("the check stamp names something that is no object: delete .git/selenite/check-stamp")
        unchanged = PathStatus.UNCHANGED
        return [Entry(path, unchanged, key, key, link_text_of_tail(path, tail))
                for path, key, tail in zip(paths, keys, self.tails, strict=True)]
