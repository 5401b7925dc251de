"""The anchor: ``.git/selenite/objects``, the one place a tree names its cache.

Links go through the anchor, so their committed text holds no machine path; the anchor itself is
local (inside ``.git``) and points at the cache's ``objects/`` with an absolute path. ``tree_cache``
is the one rule for "which cache does this tree use", for the commands, the filter and the hook.
"""

from __future__ import annotations

import contextlib
import errno
import os
from pathlib import Path

from selenite.cache import Cache
from selenite.tree.links import ANCHOR
from selenite.util import atomic_write

# Errors that mean "this filesystem takes no symlinks": the anchor is then a small text file.
_NO_SYMLINKS = (errno.EPERM, errno.EACCES, errno.ENOTSUP, errno.EOPNOTSUPP, errno.ENOSYS)


def anchor_path(root: Path) -> Path:
    return root / ANCHOR


def anchor_target(root: Path) -> Path | None:
    """Where the anchor points (the cache's ``objects/``), or None when there is no anchor.

    Where symlinks are refused (a hardlink/copy tree on such a filesystem) the anchor is a small
    regular file holding that absolute path instead."""
    anchor = anchor_path(root)
    try:
        return Path(os.readlink(anchor))
    except OSError as e:
        if e.errno != errno.EINVAL:
            return None
    try:
        text = anchor.read_bytes()[:4096].decode("utf-8").strip()
    except (OSError, UnicodeDecodeError):
        return None
    return Path(text) if text and os.path.isabs(text) else None


def make_anchor(root: Path, cache: Cache) -> None:
    """Point ``.git/selenite/objects`` at ``cache``'s objects (absolute; recreated if different)."""
    anchor = anchor_path(root)
    anchor.parent.mkdir(parents=True, exist_ok=True)
    if anchor_target(root) == cache.objects:
        return
    tmp = anchor.parent / f".objects-{os.getpid()}"
    with contextlib.suppress(FileNotFoundError):
        os.unlink(tmp)
    try:
        os.symlink(cache.objects, tmp)
    except OSError as e:
        if e.errno not in _NO_SYMLINKS:
            raise
        # No symlinks on this filesystem: a hardlink/copy tree keeps the path as text.
        atomic_write(tmp, (str(cache.objects) + "\n").encode())
    os.replace(tmp, anchor)


def tree_cache(root: Path, default: Cache | Path) -> Cache:
    """The cache a tree's links resolve into: the anchor's, when there is one; else ``default``."""
    target = anchor_target(root)
    if target is not None and target.is_absolute() and target.name == "objects":
        if isinstance(default, Cache) and target == default.objects:
            return default
        return Cache(target.parent)
    return default if isinstance(default, Cache) else Cache(default)
