"""`selenite unlock PATH...`: replace links by writable copies (the cache object stays untouched)."""

from __future__ import annotations

from pathlib import Path

from selenite import linkmodes, output, safepath, worktree
from selenite.cache import read_object
from selenite.config import Settings
from selenite.errors import FatalError
from selenite.util import atomic_write_chunks, user_file_mode
from selenite.workspace import open_tree

_LINKS = (worktree.UNCHANGED, worktree.MOVED, worktree.MODIFIED, worktree.NEW)


def unlock(settings: Settings, paths: list[Path]) -> int:
    root, _o, cache = open_tree(settings)
    entries = worktree.select(worktree.scan(root, cache, include_deleted=False), root, paths, settings.cwd)
    todo = [e for e in entries if e.key is not None and e.status in _LINKS]
    mode = linkmodes.mode_of(root)
    if mode != linkmodes.SYMLINK:
        # Only a hard link is the object itself; a copy (or a link already broken) is the user's own file.
        todo = [e for e in todo if e.target is not None or linkmodes.shares_object(root, e.path, cache, e.key)]
    missing = [e.path for e in entries if e.status == worktree.CONTENT_MISSING]
    corrupted = [e.path for e in entries if e.status == worktree.OBJECT_CORRUPTED]
    if missing:
        raise FatalError(f"the content of {missing[0]} is not here ({len(missing)} such): run `selenite get` first")
    if corrupted:
        raise FatalError(f"the object behind {corrupted[0]} was modified: run `selenite fsck --repair` first")
    if not todo:
        output.info("nothing to unlock" + (": the files of a copy-mode tree are editable as they are" if mode == linkmodes.COPY else ""))
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
