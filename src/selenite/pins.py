"""What a registered working tree keeps in use, so that `gc` never removes it (docs/user/cache.md).

Not only the links on disk: a tree also needs the content its HEAD, its index and its tags name,
so that `git checkout v1`, `git stash pop` or a reset find their content in the cache even when
the registry has since removed that version.
"""

from __future__ import annotations

from pathlib import Path

from selenite import gitrepo
from selenite.gitrepo import tags
from selenite.keys import Key
from selenite.tree.layout import layout_of


def pinned_keys(root: Path) -> set[Key]:
    """Keys of the links on disk and of the links (or the hardlink record) in HEAD, the index and
    every tag. A copy-mode tree holds its own bytes and pins nothing (docs/user/link-modes.md)."""
    layout = layout_of(root)
    revs = (["HEAD"] if gitrepo.head(root) is not None else []) + tags.tag_refs(root)
    return layout.pinned_keys() | layout.keys_in_revisions(revs)
