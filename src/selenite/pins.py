"""What a registered working tree keeps in use, so that `gc` never removes it (docs/user/cache.md).

Not only the links on disk: a tree also needs the content its HEAD, its index and its tags name,
so that `git checkout v1`, `git stash pop` or a reset find their content in the cache even when
the registry has since removed that version.
"""

from __future__ import annotations

from pathlib import Path

from selenite import gitrepo, linkmodes, worktree
from selenite.errors import FatalError
from selenite.gitrepo import blobs
from selenite.keys import Key
from selenite.tree.links import parse_link_text


def pinned_keys(root: Path) -> set[Key]:
    """Keys of the links on disk and of the links (or the hardlink record) in HEAD, the index and
    every tag. A copy-mode tree holds its own bytes and pins nothing (docs/user/link-modes.md)."""
    keys = worktree.linked_keys(root)
    revs = (["HEAD"] if gitrepo.head(root) is not None else []) + gitrepo.tag_refs(root)
    if linkmodes.has_record(root):
        if linkmodes.mode_of(root) != linkmodes.HARDLINK:
            return keys
        for data in blobs.file_versions(root, revs, linkmodes.RECORD, index=True):
            try:
                keys |= set(linkmodes.parse_record(data, linkmodes.RECORD).files.values())
            except FatalError:
                continue  # a damaged record in some commit names nothing we can keep
        return keys
    for _path, text in blobs.symlinks_in(root, revs, index=True):
        # Any link text that names an object counts, even one moved to another folder depth.
        parsed = parse_link_text(text)
        if parsed is not None:
            keys.add(parsed.key)
    return keys
