"""Writing a hardlink/copy tree's files: placing objects as hard links or copies, after get and push.

Never writes through a symlinked folder (``safepath.parent``): a plain `git clone` of someone's
tree may hold a committed ``escape -> ~/.ssh`` and a record naming ``escape/authorized_keys``.
"""

from __future__ import annotations

import contextlib
import errno
import os
import shutil
import stat
from collections.abc import Iterable, Mapping
from pathlib import Path

from selenite import safepath, statsig
from selenite.cache import OK, Cache, tree_hash
from selenite.keys import Key, md5_of_file
from selenite.statcache import StatCache
from selenite.statsig import StatSig
from selenite.tree.entry import Entry, PathStatus
from selenite.tree.modes import COPY, HARDLINK
from selenite.tree.records import HASHES, read_placed, read_record, write_exclude, write_placed, write_record
from selenite.util import user_file_mode

# Errors that mean "this filesystem (or this file) will not take a link here": fall back, not fail.
_LINK_REFUSED = {errno.EPERM, errno.EACCES, errno.EXDEV, errno.EMLINK, errno.ENOTSUP, errno.EOPNOTSUPP, errno.ENOSYS}


def place(root: Path, cache: Cache, mode: str, path: str, key: Key, hashes: StatCache | None = None,
          checked: set[str] | None = None, sigs: dict[str, StatSig] | None = None) -> bool:
    """Put ``key``'s object at ``path`` as a hard link (read-only, the object's own inode) or a
    writable copy; replace whatever is there, atomically. False when the object is absent.

    A hard link the filesystem refuses for this one file (e.g. too many links to one inode) is made
    a copy: the tree still works, only that file costs its bytes twice.

    A hard link moves the object's ctime, part of its signature: it is signed again right after
    (``Cache.keeping_signatures``; ``sigs`` is kept up to date), so the next check needs no hash."""
    full = safepath.parent(root, path, checked)
    obj = cache.object_path(key)
    tmp = safepath.temp_beside(full)
    if mode == HARDLINK:
        with cache.keeping_signatures([key], sigs):  # the link and its rename move the object's ctime
            try:
                os.link(obj, tmp)
            except FileNotFoundError:
                return False
            except OSError as e:
                if e.errno not in _LINK_REFUSED:
                    raise
            else:
                safepath.replace_with(tmp, full)
                return True
    try:
        shutil.copyfile(obj, tmp)  # copy_file_range: a reflink where the filesystem offers one
    except FileNotFoundError:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        return False
    try:
        os.chmod(tmp, user_file_mode())
        statsig.backdate(tmp)  # so the stat cache can vouch for it at once (not racily clean)
        with open(tmp, "rb") as f:
            os.fsync(f.fileno())  # the stat cache will vouch for these bytes: they must be on disk
        os.replace(tmp, full)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    if hashes is not None:
        hashes.remember([(path, os.stat(full), key.md5)])
    return True


def check_placeable(root: Path, paths: Iterable[str]) -> None:
    """Refuse, before anything is fetched or written, paths ``place`` would refuse (a folder above
    one is a symlink, or not a folder)."""
    checked: set[str] = set()
    for path in paths:
        safepath.parent(root, path, checked, create=False)


def place_all(root: Path, cache: Cache, mode: str, listing: Mapping[str, Key],
              paths: Iterable[str] | None = None) -> int:
    """Place every path of ``listing`` (or only ``paths``) whose object is present and intact."""
    hashes = StatCache(root / HASHES)
    sigs = cache.signatures()
    state: dict[Key, str] = {}
    checked: set[str] = set()
    n = 0
    try:
        for path in listing if paths is None else paths:
            key = listing[path]
            st = state.get(key)
            if st is None:
                st = state[key] = cache.state(key, sigs)
            if st == OK and place(root, cache, mode, path, key, hashes, checked, sigs):
                n += 1
    finally:
        hashes.close()
    return n


def shares_object(root: Path, path: str, cache: Cache, key: Key) -> bool:
    """The file at ``path`` is the object itself (a hard link): writing to it writes the cache."""
    try:
        a = os.lstat(root / path)
        b = os.stat(cache.object_path(key))
    except OSError:
        return False
    return stat.S_ISREG(a.st_mode) and (a.st_ino, a.st_dev) == (b.st_ino, b.st_dev)


def materialize(root: Path, cache: Cache, mode: str, entries: Iterable[Entry],
                whole_tree: bool) -> tuple[int, list[str]]:
    """After ``get`` fetched the objects: place every missing path of ``entries``; for the whole
    tree, also remove files the record no longer lists (left from the older record, unedited) and
    mark the files as placed from the current record. Returns (files placed, paths whose object
    is still absent)."""
    write_exclude(root)  # a plain `git clone` has no ignore block yet
    record = read_record(root)
    files = record.files if record is not None else {}
    todo = {e.path: e.key for e in entries if e.status == PathStatus.CONTENT_MISSING and e.key is not None}
    hashes = StatCache(root / HASHES)
    sigs = cache.signatures()  # one query, not one per file
    placed_n = 0
    absent: list[str] = []
    checked: set[str] = set()
    try:
        for path, key in sorted(todo.items()):
            if cache.state(key, sigs) == OK and place(root, cache, mode, path, key, hashes, checked, sigs):
                placed_n += 1
            else:
                absent.append(path)
    finally:
        hashes.close()
    if not whole_tree:
        return placed_n, absent
    placed = read_placed(root)
    if placed is not None and placed.tree != tree_hash(files):
        old = cache.get_tree(placed.tree) or {}
        for path, key in old.items():
            if path in files:
                continue
            full = safepath.parent(root, path, checked, create=False)
            if shares_object(root, path, cache, key):
                with cache.keeping_signatures([key], sigs):  # removing a hard link moves its ctime
                    full.unlink()
                _prune_dirs(root, full.parent)
            elif _holds(full, key):
                full.unlink()
                _prune_dirs(root, full.parent)
    write_placed(root, files, cache)
    return placed_n, absent


def _holds(full: Path, key: Key) -> bool:
    try:
        return os.path.isfile(full) and not os.path.islink(full) and md5_of_file(full) == key.content()
    except OSError:
        return False


def _prune_dirs(root: Path, d: Path) -> None:
    while d != root and root in d.parents:
        try:
            d.rmdir()
        except OSError:
            return
        d = d.parent


def after_push(root: Path, cache: Cache, mode: str, path: str, key: Key, hashes: StatCache) -> None:
    """What a pushed path becomes: in copy mode a regular file that holds the pushed bytes stays as
    it is (remembered by the stat cache); otherwise the object is placed there."""
    full = root / path
    if mode == COPY and os.path.isfile(full) and not os.path.islink(full):
        st = os.stat(full)
        hashes.remember([(path, st, key.md5)])
        return
    hashes.forget([path])
    place(root, cache, mode, path, key, hashes)


def record_pushed(root: Path, cache: Cache, mode: str, listing: Mapping[str, Key]) -> None:
    """After a push: the record names the new version, and the files follow it."""
    write_record(root, mode, listing)
    write_placed(root, listing, cache)

