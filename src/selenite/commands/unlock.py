"""`selenite unlock PATH...`: replace links by writable copies (the cache object stays untouched)."""

from __future__ import annotations

from pathlib import Path

from selenite import output, safepath
from selenite.cache import read_object
from selenite.config import Settings
from selenite.errors import FatalError
from selenite.tree.entry import PathStatus, select, tree_paths
from selenite.tree.layout import layout_of
from selenite.util import atomic_write_chunks, user_file_mode
from selenite.workspace import open_tree

_LINKS = (PathStatus.UNCHANGED, PathStatus.MOVED, PathStatus.MODIFIED, PathStatus.NEW)


def unlock(settings: Settings, paths: list[Path]) -> int:
    root, _o, cache = open_tree(settings)
    layout = layout_of(root)
    # Only the named paths are scanned: unlocking one file of thousands classified them all.
    wanted = tree_paths(root, paths, settings.cwd)
    specs = [] if "." in wanted else wanted
    entries = select(layout.scan(cache, include_deleted=False, pathspecs=specs), root, paths, settings.cwd)
    # Only what is the object itself needs unlocking; a copy is already the user's own file.
    todo = [e for e in entries if e.key is not None and e.status in _LINKS and layout.shares_object(e, cache)]
    missing = [e.path for e in entries if e.status == PathStatus.CONTENT_MISSING]
    corrupted = [e.path for e in entries if e.status == PathStatus.OBJECT_CORRUPTED]
    if missing:
        # "on the same paths": in a pattern clone a plain `get` fetches only the selection.
        raise FatalError(f"the content of {missing[0]} is not here ({len(missing)} such): "
                         "run `selenite get` on the same paths first")
    if corrupted:
        raise FatalError(f"the object behind {corrupted[0]} was modified: run `selenite fsck --repair` first")
    if not todo:
        hint = ": the files of a copy-mode tree are editable as they are" if layout.editable_in_place else ""
        output.info("nothing to unlock" + hint)
        return 0
    mode_bits = user_file_mode()
    for e in todo:
        assert e.key is not None
        # Checked against the key as it is copied; the link is replaced only once the copy is on disk.
        # Replacing a hard link moves its object's ctime: the object is signed again right after.
        with cache.keeping_signatures([e.key] if e.target is None else []):
            atomic_write_chunks(safepath.parent(root, e.path), read_object(cache, e.key), mode_bits)
    output.info(f"unlocked {len(todo)} file(s): edit them freely, then `git commit` and `selenite push`")
    return 0
