"""The cache's small database (``state.sqlite``): the stat signatures of intact objects, and the
working trees (and their registries) that use the cache, which ``gc`` must keep.

An object is trusted as intact while its stat is the signature recorded when it was last checked
(``statsig``); otherwise it is re-hashed, and signed again when it is intact. sqlite runs in WAL
mode with a busy timeout, so several processes share it.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import threading
import time
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path

from selenite import statsig
from selenite.cache.meta import listdir, registry_id
from selenite.keys import Digest, Key, object_relpath, try_parse_key
from selenite.statsig import StatSig

OK = "ok"
MISSING = "missing"
CORRUPTED = "corrupted"


class CacheState:
    """Where objects live, whether each is intact, and the registered working trees."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root).expanduser().absolute()
        self.objects = self.root / "objects"
        self._objects_prefix = str(self.objects) + os.sep
        self._db_lock = threading.Lock()
        self._db: sqlite3.Connection | None = None

    # --- the database -----------------------------------------------------------------------

    def _conn(self) -> sqlite3.Connection:
        if self._db is None:
            db = sqlite3.connect(self.root / "state.sqlite", timeout=60, check_same_thread=False, isolation_level=None)
            db.execute("PRAGMA busy_timeout = 60000")
            with contextlib.suppress(sqlite3.OperationalError):  # e.g. a filesystem without WAL support
                db.execute("PRAGMA journal_mode = WAL")
            db.execute("PRAGMA synchronous = NORMAL")
            # Signatures with ctime (``statsig``). The older ``signatures`` table (no ctime) is left
            # to older selenite versions that may share this cache: its rows are not trusted here.
            db.execute(
                "CREATE TABLE IF NOT EXISTS object_sigs "
                "(key TEXT PRIMARY KEY, size INTEGER, mtime_ns INTEGER, ctime_ns INTEGER, inode INTEGER)"
            )
            db.execute("CREATE TABLE IF NOT EXISTS worktrees (path TEXT PRIMARY KEY, registered REAL)")
            db.execute("CREATE TABLE IF NOT EXISTS registries (id TEXT PRIMARY KEY, url TEXT)")
            self._db = db
        return self._db

    def _exec(self, sql: str, args: Iterable[object] = ()) -> list[tuple[object, ...]]:
        with self._db_lock:
            return self._conn().execute(sql, tuple(args)).fetchall()

    def close(self) -> None:
        with self._db_lock:
            if self._db is not None:
                self._db.close()
                self._db = None

    # --- objects: where, and whether intact ------------------------------------------------------

    def object_path(self, key: Key) -> Path:
        return self.objects / object_relpath(key)

    def has(self, key: Key) -> bool:
        """The object is present (not checked; see ``state``/``verify``)."""
        return os.path.exists(self.object_path(key))

    def record_signature(self, key: Key, st: os.stat_result | None = None) -> StatSig | None:
        """Sign an object known to be intact at stat ``st``; returns the signature. A racily clean
        one is left unsigned (None): the next check re-hashes it."""
        taken = statsig.now()
        st = st if st is not None else os.stat(self.object_path(key))
        if statsig.is_racy(st, taken):
            return None
        sig = StatSig.of(st)
        self._exec("INSERT OR REPLACE INTO object_sigs VALUES (?, ?, ?, ?, ?)",
                   (key.name, sig.size, sig.mtime_ns, sig.ctime_ns, sig.inode))
        return sig

    def record_signatures(self, keys: Iterable[Key]) -> None:
        """``record_signature`` for many objects, in one transaction (one commit, not one each)."""
        taken = statsig.now()
        rows = []
        for key in keys:
            try:
                st = os.stat(self._objects_prefix + object_relpath(key))  # no Path: per object of a batch
            except FileNotFoundError:
                continue  # removed meanwhile (gc): nothing to sign
            if not statsig.is_racy(st, taken):
                sig = StatSig.of(st)
                rows.append((key.name, sig.size, sig.mtime_ns, sig.ctime_ns, sig.inode))
        if not rows:
            return
        with self._db_lock:
            db = self._conn()
            db.execute("BEGIN IMMEDIATE")
            try:
                db.executemany("INSERT OR REPLACE INTO object_sigs VALUES (?, ?, ?, ?, ?)", rows)
            except BaseException:
                db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")

    def _forget_signature(self, key: Key) -> None:
        self._exec("DELETE FROM object_sigs WHERE key = ?", (key.name,))

    def signature(self, key: Key) -> StatSig | None:
        rows = self._exec("SELECT size, mtime_ns, ctime_ns, inode FROM object_sigs WHERE key = ?", (key.name,))
        return _object_sig(*rows[0]) if rows else None

    def signatures(self) -> dict[str, StatSig]:
        """Every recorded signature in one query (for scanning many links)."""
        # Rows whose values are not what selenite writes are left out (as ``_object_sig`` makes them
        # unmatchable): their objects are re-hashed. Filtered by sqlite, 100,000 rows load in C.
        rows = self._exec("SELECT key, size, mtime_ns, ctime_ns, inode FROM object_sigs WHERE typeof(key) = 'text' "
                          "AND typeof(size) = 'integer' AND typeof(mtime_ns) = 'integer' "
                          "AND typeof(ctime_ns) = 'integer' AND typeof(inode) = 'integer'")
        make = StatSig._make
        return {str(r[0]): make(r[1:]) for r in rows}

    @contextlib.contextmanager
    def keeping_signatures(self, keys: Iterable[Key], sigs: dict[str, StatSig] | None = None,
                           siblings: bool = True) -> Iterator[None]:
        """Around an operation of selenite's own that moves these objects' ctime without touching
        a byte (a hard link made or removed, a chmod): each object found intact just before (its
        full signature, else a re-hash) is signed again right after, so the next check needs no
        hash. So are the objects that share their inode (``siblings``: the same content under
        another extension). ``sigs`` (from ``signatures``), when given, is used and kept up to date."""
        todo = dict.fromkeys(keys)
        if siblings:
            for key in list(todo):
                todo.update(dict.fromkeys(self._sharing_inode(key)))
        before = [(k, st) for k in todo if (st := self._intact_stat(k, sigs)) is not None]
        try:
            yield
        finally:
            for key, st in before:
                self._resign(key, st, sigs)

    def _intact_stat(self, key: Key, sigs: Mapping[str, StatSig] | None) -> os.stat_result | None:
        """The object's stat when it is intact by its recorded signature (re-hashed, and so signed
        anew, when that differs); None when it is absent, damaged or cannot be signed."""
        path = self.object_path(key)
        try:
            st = os.stat(path)
            if self._sig_ok(key, st, sigs):
                return st
            if not self.verify(key):
                return None
            st = os.stat(path)
        except OSError:
            return None
        if not self._sig_ok(key, st, None):  # racily clean, or changed since the hash
            return None
        if isinstance(sigs, dict):
            sigs[key.name] = StatSig.of(st)
        return st

    def _resign(self, key: Key, before: os.stat_result, sigs: dict[str, StatSig] | None) -> None:
        """Sign the object again after selenite's own ctime change, if nothing else moved."""
        try:
            st = os.stat(self.object_path(key))
        except OSError:
            return
        if (st.st_size, st.st_mtime_ns, st.st_ino) != (before.st_size, before.st_mtime_ns, before.st_ino):
            return
        sig = self.record_signature(key, st)
        if sigs is not None and sig is not None:
            sigs[key.name] = sig

    def _sig_ok(self, key: Key, st: os.stat_result, sigs: Mapping[str, StatSig] | None) -> bool:
        recorded = sigs.get(key.name) if sigs is not None else self.signature(key)
        return statsig.unchanged(st, recorded) and st.st_size == key.size

    def verify(self, key: Key) -> bool:
        """Full check: re-hash the object. A good object gets its signature recorded again, when it
        did not change while it was read (``statsig.recordable``)."""
        path = self.object_path(key)
        digest = Digest()
        try:
            with open(path, "rb") as f:
                before = os.fstat(f.fileno())
                digest.read_all(f)
            taken = statsig.now()
            after = os.stat(path)
        except OSError:
            return False
        ok = digest.matches(key)
        if ok and statsig.recordable(before, after, taken):
            self.record_signature(key, after)
        return ok

    def state(self, key: Key, sigs: Mapping[str, StatSig] | None = None) -> str:
        """``OK``, ``MISSING`` or ``CORRUPTED``: the stat signature first, a re-hash only if it differs."""
        try:
            st = os.stat(self._objects_prefix + object_relpath(key))  # no Path: this runs per link of a scan
        except FileNotFoundError:
            return MISSING
        except OSError:
            return CORRUPTED
        if self._sig_ok(key, st, sigs):
            return OK
        return OK if self.verify(key) else CORRUPTED

    def states(self, keys: Iterable[Key], sigs: Mapping[str, StatSig]) -> dict[Key, str]:
        """``state`` of many objects (a scan's links), with every signature at hand (``signatures``)."""
        prefix, stat, unchanged = self._objects_prefix, os.stat, statsig.unchanged
        out: dict[Key, str] = {}
        for key in keys:
            name, md5 = key.name, key.md5
            try:
                st = stat(f"{prefix}{md5[0:2]}/{md5[2:4]}/{name}/{name}")  # object_relpath, inlined: per link
            except FileNotFoundError:
                out[key] = MISSING
                continue
            except OSError:
                out[key] = CORRUPTED
                continue
            if unchanged(st, sigs.get(name)) and st.st_size == key.size:
                out[key] = OK
            else:
                out[key] = OK if self.verify(key) else CORRUPTED
        return out

    def _sharing_inode(self, key: Key) -> list[Key]:
        """The other objects that are hard links of ``key``'s (same content, another extension)."""
        try:
            st = os.stat(self.object_path(key))
        except OSError:
            return []
        if st.st_nlink < 2:
            return []
        out = []
        for other in self.same_content(key):
            with contextlib.suppress(OSError):
                if os.stat(self.object_path(other)).st_ino == st.st_ino:
                    out.append(other)
        return out

    def same_content(self, key: Key) -> list[Key]:
        """The other keys in the cache with ``key``'s content (another extension), intact or not."""
        out = []
        for name in listdir(self.objects / key.md5[0:2] / key.md5[2:4]):
            other = try_parse_key(name)
            if other is not None and other != key and other.content() == key.content():
                out.append(other)
        return out

    # --- registered working trees (what gc must keep) ------------------------------------------------

    def register_worktree(self, path: Path, url: str | None = None) -> None:
        """Remember a working tree of this cache (again, at its current path), and the URL of its
        registry (so gc can ask that registry what it still holds after the tree is gone). Every
        command registers its tree: one read, and a write only when something is new."""
        where = str(Path(path).absolute())
        rows = self._exec("SELECT (SELECT count(*) FROM worktrees WHERE path = ?), "
                          "(SELECT count(*) FROM registries WHERE id = ? AND url = ?)",
                          (where, registry_id(url) if url else "", url or ""))
        known_tree, known_url = rows[0]
        if not known_tree:
            self._exec("INSERT OR REPLACE INTO worktrees VALUES (?, ?)", (where, time.time()))
        if url and not known_url:
            self._exec("INSERT OR REPLACE INTO registries VALUES (?, ?)", (registry_id(url), url))

    def registry_urls(self) -> list[str]:
        """URLs of the registries of every tree ever registered."""
        return [str(u) for (u,) in self._exec("SELECT url FROM registries ORDER BY url")]

    def forget_worktree(self, path: Path) -> None:
        self._exec("DELETE FROM worktrees WHERE path = ?", (str(Path(path).absolute()),))

    def worktrees(self) -> list[Path]:
        return [Path(str(p)) for (p,) in self._exec("SELECT path FROM worktrees ORDER BY path")]


def _object_sig(*row: object) -> StatSig:
    """A signature row. sqlite hands back untyped values: one that is not the integer written can
    never match a stat (the object is re-hashed)."""
    size, mtime_ns, ctime_ns, inode = (v if isinstance(v, int) else -1 for v in row)
    return StatSig(size, mtime_ns, ctime_ns, inode)

