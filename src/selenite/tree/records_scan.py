"""Scanning a hardlink/copy tree: the classes of ``symlinks.scan``, found without symlinks.

Unchanged files are recognised without hashing: in hardlink mode by sharing the object's inode
with the object's recorded stat signature intact; in copy mode (and for a hard-link-mode file that
is a separate file) by the per-tree stat cache, hashing only files whose stat changed.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Mapping, Sequence
from pathlib import Path

from selenite import statsig
from selenite.cache import MISSING, OK, Cache, tree_hash
from selenite.keys import Key
from selenite.statcache import StatCache
from selenite.statsig import StatSig
from selenite.tree.anchor import tree_cache
from selenite.tree.entry import Entry, PathStatus, status_of
from selenite.tree.links import key_from_link
from selenite.tree.records import HASHES, Placed, data_files, has_record, read_placed, read_record


class _Scan:
    """What one scan knows about the tree: its record, what was placed, the cache's signatures."""

    def __init__(self, root: Path, cache: Cache, last: Mapping[str, Key] | None, check_objects: bool) -> None:
        self.root, self.cache, self.check_objects = root, cache, check_objects
        record = read_record(root)
        files = record.files if record is not None else {}
        self.last: Mapping[str, Key] = files if last is None else last
        self.placed: Placed | None = read_placed(root)
        self.in_sync = self.placed is not None and self.placed.tree == tree_hash(files)
        # The record moved on (git pull/checkout) since the files were placed: what they hold.
        self.placed_listing: Mapping[str, Key] | None = None
        if self.placed is not None and not self.in_sync:
            self.placed_listing = cache.get_tree(self.placed.tree)
        self.by_key = set(self.last.values())
        self.sigs: dict[str, StatSig] = cache.signatures()
        try:
            self.objects_dev = os.stat(cache.objects).st_dev
        except OSError:
            self.objects_dev = -1
        self.inode_key: dict[int, Key] = {}  # a hard link moved within the tree still shares its object's inode
        for k in self.by_key:
            sig = self.sigs.get(k.name)
            if sig is not None:
                self.inode_key[sig.inode] = k
        self._states: dict[Key, str] = {}

    def object_state(self, key: Key) -> str:
        st = self._states.get(key)
        if st is None:
            st = self._states[key] = self.cache.state(key, self.sigs)
        return st

    def was_placed(self, path: str) -> bool:
        """An absent record path was on disk once (so it was deleted), rather than never fetched."""
        if self.placed is None or path in self.placed.pending:
            return False
        return self.in_sync or (self.placed_listing is not None and path in self.placed_listing)

    def is_object(self, st: os.stat_result, key: Key) -> bool:
        """The file with stat ``st`` shares ``key``'s object's inode (the recorded signature says
        so without a stat of the object; otherwise the object is stat'ed)."""
        if st.st_dev != self.objects_dev:
            return False
        sig = self.sigs.get(key.name)
        if sig is not None and sig.inode == st.st_ino:
            return True
        try:
            ost = os.stat(self.cache.object_path(key))
        except OSError:
            return False
        return (ost.st_ino, ost.st_dev) == (st.st_ino, st.st_dev)

    def symlink_entry(self, path: str, old: Key | None) -> Entry:
        """A symlink in a hardlink/copy tree: classified as in a symlink tree."""
        text = os.readlink(self.root / path)
        key = key_from_link(path, text)
        if key is None:
            return Entry(path, PathStatus.OUTSIDE, None, old, text)
        if self.check_objects and (st := self.object_state(key)) != OK:
            status = PathStatus.CONTENT_MISSING if st == MISSING else PathStatus.OBJECT_CORRUPTED
            return Entry(path, status, key, old, text)
        return Entry(path, status_of(key, old, self.by_key), key, old, text)

    def file_entry(self, path: str, st: os.stat_result, old: Key | None) -> Entry | Key:
        """A regular file's entry when its inode tells; else the key to hash it against (None: new)."""
        pk = self.placed_listing.get(path) if self.placed_listing is not None else None
        if old is not None and pk not in (None, old):
            # Still what was placed from the older record: not an edit, content not placed yet.
            assert pk is not None
            return Entry(path, PathStatus.CONTENT_MISSING, old, old) if self.is_object(st, pk) else old
        key = old if old is not None else self.inode_key.get(st.st_ino)
        if key is not None and self.is_object(st, key):
            intact = statsig.unchanged(st, self.sigs.get(key.name)) and st.st_size == key.size
            if not intact and self.check_objects and self.object_state(key) != OK:
                return Entry(path, PathStatus.OBJECT_CORRUPTED, key, old)
            status = PathStatus.UNCHANGED if old == key else (PathStatus.MOVED if old is None else PathStatus.MODIFIED)
            return Entry(path, status, key, old)
        return Entry(path, PathStatus.NEW, None, None) if old is None else old

    def hashed(self, to_hash: Mapping[str, Key]) -> list[Entry]:
        """Entries of the files whose inode did not tell: their md5 (through the stat cache)."""
        hashes = StatCache(self.root / HASHES)
        try:
            digests = hashes.hash_many(self.root, list(to_hash))
        finally:
            hashes.close()
        out: list[Entry] = []
        for path, want in to_hash.items():
            md5, size = digests[path]
            same = (md5, size) == want.content()
            pk = self.placed_listing.get(path) if self.placed_listing is not None else None
            if not same and pk not in (None, want) and pk is not None and (md5, size) == pk.content():
                out.append(Entry(path, PathStatus.CONTENT_MISSING, want, want))  # the older record's bytes
                continue
            out.append(Entry(path, PathStatus.UNCHANGED if same else PathStatus.MODIFIED, want if same else None, want))
        return out


def _under(path: str, pathspecs: Sequence[str]) -> bool:
    return not pathspecs or any(path == s or path.startswith(s.rstrip("/") + "/") for s in pathspecs)


def scan(
    root: Path, cache: Cache, *, last: Mapping[str, Key] | None = None, pathspecs: Sequence[str] = (),
    check_objects: bool = True, include_deleted: bool = True,
) -> list[Entry]:
    """``symlinks.scan`` for a hardlink/copy tree: the same classes, found without symlinks."""
    s = _Scan(root, cache, last, check_objects)
    candidates = data_files(root, pathspecs)
    listed = set(candidates)
    candidates += [p for p in s.last if p not in listed and _under(p, pathspecs)]
    top = str(root) + os.sep
    out: list[Entry] = []
    to_hash: dict[str, Key] = {}  # path -> the key it must match
    for path in candidates:
        old = s.last.get(path)
        try:
            st = os.lstat(top + path)
        except FileNotFoundError:
            if old is None:
                continue
            if not s.was_placed(path):
                out.append(Entry(path, PathStatus.CONTENT_MISSING, old, old))
            elif include_deleted:
                out.append(Entry(path, PathStatus.DELETED, None, old))
            continue
        if stat.S_ISLNK(st.st_mode):
            out.append(s.symlink_entry(path, old))
        elif stat.S_ISREG(st.st_mode):
            found = s.file_entry(path, st, old)
            if isinstance(found, Key):
                to_hash[path] = found
            else:
                out.append(found)
        elif old is not None and stat.S_ISDIR(st.st_mode) and include_deleted:
            out.append(Entry(path, PathStatus.DELETED, None, old))  # the file became a folder
    if to_hash:
        out += s.hashed(to_hash)
    return out


def hook_problems(top: Path, cache_dir: Path) -> list[tuple[str, str, str]]:
    """For the pre-commit check of a hardlink tree: (path, kind, detail) for every file that is its
    object's hard link and whose object no longer matches its key (written in place)."""
    if not has_record(top):
        return []
    cache = tree_cache(top, cache_dir)
    return [
        (e.path, "corrupted", f"the cached object behind this hard link no longer matches its key {e.key.name} "
                              "(written in place?)")
        for e in scan(top, cache, include_deleted=False)
        if e.status == PathStatus.OBJECT_CORRUPTED and e.key is not None
    ]
