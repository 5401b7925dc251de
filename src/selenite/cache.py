"""The shared, content-addressed cache (one per user; every working tree links into it).

Layout (docs/develop/internals.md is the contract)::

    <cache>/objects/<md5[0:2]>/<md5[2:4]>/<KEY>/<KEY>   content, 0444; its <KEY>/ directory 0555
    <cache>/tmp/                                        in-flight writes (same filesystem as objects/)
    <cache>/manifests/<registry-id>/<p>/<a>/<v>.json    manifests of versions seen (immutable)
    <cache>/trees/<h[0:2]>/<h>.json                     {path: key name} of a version, by tree hash
    <cache>/refs/<registry-id>/<p>/<a>/<v>              tree hash of that version
    <cache>/state.sqlite                                stat signatures of objects; registered trees
    <cache>/locks/                                      filelock files
    <cache>/kept/<when>-<pid>-<tid>-<KEY>               bytes of a damaged object, kept before it was restored

Safety with several processes: objects only ever appear by ``os.replace`` of a fully written,
checked, fsync'd temp file, so a reader sees a whole object or none; two writers of the same key
race harmlessly (same bytes). Small files (manifests, trees, refs) use ``util.atomic_write``.
sqlite runs in WAL mode with a busy timeout.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import sqlite3
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path
from typing import BinaryIO
from urllib.parse import quote, urlsplit

from filelock import FileLock

from selenite import statsig
from selenite.errors import ChecksumMismatch, FatalError
from selenite.keys import (
    CHUNK,
    HashingWriter,
    Key,
    check_content,
    extension_of,
    iter_chunks,
    object_relpath,
    try_parse_key,
)
from selenite import safepath
from selenite.statsig import StatSig
from selenite.util import atomic_write, fsync_dir

OK = "ok"
MISSING = "missing"
CORRUPTED = "corrupted"

KEPT = "kept"  # damaged objects' bytes, moved aside before the object is restored

_HEX64 = re.compile(r"[0-9a-f]{64}\Z")


def registry_id(url: str) -> str:
    """One path component naming a registry: its URL without the scheme, percent-encoded."""
    parts = urlsplit(url.rstrip("/"))
    rest = parts.netloc + parts.path
    return quote(rest, safe="")


def tree_hash(listing: Mapping[str, Key | str]) -> str:
    """sha256 of the canonical listing: entries sorted by the UTF-8 bytes of the path, each encoded
    ``<len(path)>:<path><len(key)>:<key>`` (lengths in bytes), so no two listings encode alike."""
    h = hashlib.sha256()
    for bpath, key in sorted((p.encode(), str(k).encode()) for p, k in listing.items()):
        h.update(b"%d:%s%d:%s" % (len(bpath), bpath, len(key), key))
    return h.hexdigest()


def _name_component(name: str, what: str) -> str:
    """A project/asset/version name used as one path component under the cache: validated."""
    if not isinstance(name, str) or not name or name in (".", "..") or any(c in name for c in "/\\\x00"):
        raise FatalError(f"{what} name {name!r} cannot be used (empty, '.', '..', or holds '/' or '\\')")
    return name


class Cache:
    """The object store plus the small metadata it keeps (manifests, trees, refs, signatures)."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root).expanduser().absolute()
        self.objects = self.root / "objects"
        self.tmp = self.root / "tmp"
        self._db_lock = threading.Lock()
        self._db: sqlite3.Connection | None = None
        self._sync_lock = threading.Lock()
        self._pending_dirs: set[Path] | None = None  # inside ``deferred_dir_sync``: dirs to fsync at its end
        # Where warnings that must reach the user go (damaged bytes kept aside); stderr by default.
        self.notice: Callable[[str], None] = _to_stderr
        for d in (self.objects, self.tmp, self.root / "locks"):
            try:
                d.mkdir(parents=True, exist_ok=True)
            except OSError as e:
                raise FatalError(f"cannot create the cache at {self.root}: {e.strerror}") from None

    # --- sqlite state -----------------------------------------------------------------------

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

    # --- objects ----------------------------------------------------------------------------

    def object_path(self, key: Key) -> Path:
        return self.objects / object_relpath(key)

    def has(self, key: Key) -> bool:
        """The object is present (not checked; see ``state``/``verify``)."""
        return os.path.exists(self.object_path(key))

    def lock(self, name: str) -> FileLock:
        """An inter-process lock under ``locks/`` (e.g. ``cache.lock("gc")``)."""
        return FileLock(str(self.root / "locks" / f"{name}.lock"))

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

    def _forget_signature(self, key: Key) -> None:
        self._exec("DELETE FROM object_sigs WHERE key = ?", (key.name,))

    def signature(self, key: Key) -> StatSig | None:
        rows = self._exec("SELECT size, mtime_ns, ctime_ns, inode FROM object_sigs WHERE key = ?", (key.name,))
        return _object_sig(*rows[0]) if rows else None

    def signatures(self) -> dict[str, StatSig]:
        """Every recorded signature in one query (for scanning many links)."""
        return {str(k): _object_sig(s, m, c, i)
                for k, s, m, c, i in self._exec("SELECT key, size, mtime_ns, ctime_ns, inode FROM object_sigs")}

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

    def signature_ok(self, key: Key, sigs: Mapping[str, StatSig] | None = None) -> bool:
        """Fast check: the object exists and its stat matches what was recorded at ingest."""
        try:
            st = os.stat(self.object_path(key))
        except OSError:
            return False
        return self._sig_ok(key, st, sigs)

    def _sig_ok(self, key: Key, st: os.stat_result, sigs: Mapping[str, StatSig] | None) -> bool:
        recorded = sigs.get(key.name) if sigs is not None else self.signature(key)
        return statsig.unchanged(st, recorded) and st.st_size == key.size

    def verify(self, key: Key) -> bool:
        """Full check: re-hash the object. A good object gets its signature recorded again, when it
        did not change while it was read (``statsig.recordable``)."""
        path = self.object_path(key)
        h = hashlib.md5(usedforsecurity=False)
        size = 0
        try:
            with open(path, "rb") as f:
                before = os.fstat(f.fileno())
                for block in iter_chunks(f):
                    h.update(block)
                    size += len(block)
            taken = statsig.now()
            after = os.stat(path)
        except OSError:
            return False
        ok = size == key.size and h.hexdigest() == key.md5
        if ok and statsig.recordable(before, after, taken):
            self.record_signature(key, after)
        return ok

    def state(self, key: Key, sigs: Mapping[str, StatSig] | None = None) -> str:
        """``OK``, ``MISSING`` or ``CORRUPTED``: the stat signature first, a re-hash only if it differs."""
        path = self.object_path(key)
        try:
            st = os.stat(path)
        except FileNotFoundError:
            return MISSING
        except OSError:
            return CORRUPTED
        if self._sig_ok(key, st, sigs):
            return OK
        return OK if self.verify(key) else CORRUPTED

    def _install(self, tmp: Path, key: Key, replace: bool = False) -> Path:
        """Move a checked temp file into place as ``key``'s object, read-only in a read-only dir."""
        final = self.object_path(key)
        d = final.parent
        d.parent.mkdir(parents=True, exist_ok=True)
        with contextlib.suppress(FileExistsError):
            os.mkdir(d, 0o755)
        for attempt in range(20):
            if not replace and os.path.exists(final):
                if self.state(key) == OK:
                    # Another process (or an earlier run) stored the same bytes: keep theirs.
                    with contextlib.suppress(FileNotFoundError):
                        os.unlink(tmp)
                    return final
                # Bytes that no longer match their key were written through a link somewhere:
                # they are someone's edit, so they are kept aside before the object is restored.
                self._keep_damaged(key)
            try:
                statsig.backdate(tmp)  # so it can be signed at once (not racily clean)
                os.chmod(tmp, 0o444)
                os.chmod(d, 0o755)
                os.replace(tmp, final)
                break
            except PermissionError:
                # A concurrent writer made the directory read-only between our chmod and rename.
                if attempt == 19:
                    raise
                time.sleep(0.01 * (attempt + 1))
        with contextlib.suppress(OSError):
            os.chmod(d, 0o555)
        self._sync_dir(d)
        self.record_signature(key)
        return final

    def _keep_damaged(self, key: Key, then: str = "the object is restored") -> Path | None:
        """Move ``key``'s damaged object to ``kept/`` (a rename: the same inode, so a hard link in a
        tree keeps its bytes too), writable, and say where on stderr. None when it was gone."""
        final = self.object_path(key)
        kept = self.root / KEPT / f"{time.strftime('%Y%m%d-%H%M%S')}-{os.getpid()}-{threading.get_ident()}-{key.name}"
        kept.parent.mkdir(parents=True, exist_ok=True)
        with contextlib.suppress(OSError):
            os.chmod(final.parent, 0o755)
        try:
            os.rename(final, kept)
        except FileNotFoundError:
            return None  # another process moved it first (and said so)
        with contextlib.suppress(OSError):
            os.chmod(kept, 0o644)
        self._forget_signature(key)
        self.notice(f"selenite: warning: the cached object {key.name} no longer matched its key (edited "
                    f"through a link?); its bytes are kept at {kept}, and {then}")
        return kept

    def _sync_dir(self, d: Path) -> None:
        with self._sync_lock:
            if self._pending_dirs is not None:
                self._pending_dirs.add(d)
                return
        fsync_dir(d)

    @contextlib.contextmanager
    def deferred_dir_sync(self) -> Iterator[None]:
        """Within this block, the directory fsync that makes each object's rename durable is done
        once per directory at the end instead of after every object (each object's own bytes are
        still fsync'd before its rename). Thousands of small downloads then cost one journal commit
        for their renames, not one each. Also syncs the folders the objects' folders were made in."""
        with self._sync_lock:
            outer = self._pending_dirs is not None
            if not outer:
                self._pending_dirs = set()
        try:
            yield
        finally:
            if not outer:
                with self._sync_lock:
                    dirs, self._pending_dirs = self._pending_dirs or set(), None
                for d in sorted(dirs | {d.parent for d in dirs}, key=lambda p: len(p.parts), reverse=True):
                    fsync_dir(d)

    @contextlib.contextmanager
    def _temp(self) -> Iterator[tuple[Path, BinaryIO]]:
        """A temp file in ``tmp/``, open for writing, removed if the block raises. It is handed out
        as a file object, never a raw descriptor: closing it twice is then harmless, whereas a
        second ``os.close`` of a number another thread has meanwhile been given closes *their*
        file or socket (seen as EBADF in a parallel download after a md5 mismatch)."""
        fd, name = tempfile.mkstemp(dir=self.tmp, prefix="in-", suffix=".part")
        tmp = Path(name)
        out = os.fdopen(fd, "wb")
        try:
            yield tmp, out
        except BaseException:
            out.close()
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
            raise

    def put_stream(
        self,
        key: Key,
        chunks: Iterable[bytes],
        on_bytes: Callable[[int], None] | None = None,
        what: str | None = None,
        replace: bool = False,
    ) -> Path:
        """Store bytes as ``key``: written to ``tmp/``, md5 and size checked while streaming, fsync'd,
        renamed into place. Wrong bytes raise ``ChecksumMismatch`` and nothing is stored.

        ``replace=True`` overwrites a present object (repair); otherwise a present, good object wins.
        """
        with self._temp() as (tmp, out):
            with out:
                w = HashingWriter(out)  # type: ignore[arg-type]
                for block in chunks:
                    if w.size + len(block) > key.size:  # never store more than the key can hold
                        raise ChecksumMismatch(f"{what or key.name}: more than the {key.size} bytes declared")
                    w.write(block)
                    if on_bytes is not None:
                        on_bytes(len(block))
                out.flush()
                os.fsync(out.fileno())
            check_content(key, w.hexdigest(), w.size, what or key.name)
            return self._install(tmp, key, replace=replace)

    def put_many(self, items: Iterable[tuple[Key, bytes]], replace: bool = False) -> None:
        """Store several small objects (bytes in memory) with one flush to disk for the lot.

        Each object is still written to ``tmp/``, checked against its key, fsync'd and only then
        renamed into place, as ``put_stream`` does; but all of them are written before the first
        fsync, so the filesystem commits them together instead of once per object (on a busy disk
        one commit costs milliseconds). Wrong bytes raise ``ChecksumMismatch`` before any object of
        the lot is installed."""
        files: list[tuple[Key, Path]] = []
        fds: list[int] = []
        installed = 0
        try:
            try:
                for key, data in items:
                    fd, name = tempfile.mkstemp(dir=self.tmp, prefix="in-", suffix=".part")
                    fds.append(fd)
                    files.append((key, Path(name)))
                    view = memoryview(data)
                    while view:
                        view = view[os.write(fd, view) :]
                    check_content(key, hashlib.md5(data, usedforsecurity=False).hexdigest(), len(data), key.name)
                for fd in fds:
                    os.fsync(fd)
            finally:
                while fds:  # popped before closing: no descriptor is ever closed twice
                    fd = fds.pop()
                    with contextlib.suppress(OSError):
                        os.close(fd)
            for key, tmp in files:
                self._install(tmp, key, replace=replace)
                installed += 1
        except BaseException:
            for _, tmp in files[installed:]:
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(tmp)
            raise

    def put_file(self, src: Path, filename: str | None = None, expected: Key | None = None) -> Key:
        """Ingest a local file (copied, hashed in the same pass); return its key.

        The extension comes from ``filename`` (default ``src``'s name). With ``expected``, a file
        whose bytes differ raises ``ChecksumMismatch`` and nothing is stored.
        """
        with open(src, "rb") as f:
            return self.put_chunks(iter_chunks(f), filename if filename is not None else src.name, expected, str(src))

    def put_chunks(self, chunks: Iterable[bytes], filename: str, expected: Key | None = None,
                   what: str | None = None) -> Key:
        """Ingest streamed bytes whose key is not known yet (hashed as they are written to ``tmp/``;
        memory stays flat); return their key, with the extension of ``filename``. Content the
        cache already holds intact is not written again: the temp file is dropped unsynced."""
        with self._temp() as (tmp, out):
            with out:
                w = HashingWriter(out)  # type: ignore[arg-type]
                for block in chunks:
                    w.write(block)
                key = Key(w.hexdigest(), w.size, extension_of(filename))
                if expected is not None:
                    check_content(expected, key.md5, key.size, what or filename)
                    key = expected
                if self.state(key) == OK:
                    out.close()
                    os.unlink(tmp)
                    return key
                out.flush()
                os.fsync(out.fileno())
            self._install(tmp, key)
            return key

    def link_sibling(self, key: Key) -> bool:
        """Store ``key`` as a hard link to the same content under another extension, if one is
        cached and intact (so identical content is stored once). True when ``key`` is now present."""
        prefix = f"MD5E-s{key.size}--{key.md5}"
        try:
            names = os.listdir(self.objects / key.md5[0:2] / key.md5[2:4])
        except FileNotFoundError:
            return False
        for name in names:
            other = try_parse_key(name)
            if other is None or not name.startswith(prefix) or other == key or other.content() != key.content():
                continue
            if self.state(other) != OK:
                continue
            tmp = self.tmp / f"ln-{os.getpid()}-{threading.get_ident()}-{key.name}"
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
            with self.keeping_signatures([other]):  # the link and the chmod move ``other``'s ctime
                try:
                    os.link(self.object_path(other), tmp)
                except OSError:
                    return False  # e.g. a filesystem without hard links: the caller downloads instead
                self._install(tmp, key)
            return True
        return False

    def ensure_local(self, key: Key) -> bool:
        """True when ``key`` is present and intact, or could be made so from a sibling object."""
        if self.state(key) == OK:
            return True
        return self.link_sibling(key)

    def remove(self, key: Key, keep_damaged: bool = True) -> bool:
        """Delete an object (and its directory). False when it was not there.

        An object whose bytes no longer match its key holds someone's edit: it is moved to ``kept/``
        instead (and said so), unless the caller has kept those bytes itself (``keep_damaged=False``)."""
        final = self.object_path(key)
        if keep_damaged and self.state(key) == CORRUPTED and self._keep_damaged(key, "the object is removed"):
            with contextlib.suppress(OSError):
                os.rmdir(final.parent)
            return True
        d = final.parent
        with contextlib.suppress(OSError):
            os.chmod(d, 0o755)
        try:
            with self.keeping_signatures(self._sharing_inode(key), siblings=False):  # their ctime moves too
                os.unlink(final)
            removed = True
        except FileNotFoundError:
            removed = False
        with contextlib.suppress(OSError):
            os.rmdir(d)
        self._forget_signature(key)
        return removed

    def _sharing_inode(self, key: Key) -> list[Key]:
        """The other objects that are hard links of ``key``'s (same content, another extension)."""
        try:
            st = os.stat(self.object_path(key))
        except OSError:
            return []
        if st.st_nlink < 2:
            return []
        d = self.objects / key.md5[0:2] / key.md5[2:4]
        out = []
        for name in _listdir(d):
            other = try_parse_key(name)
            if other is None or other == key or other.content() != key.content():
                continue
            with contextlib.suppress(OSError):
                if os.stat(self.object_path(other)).st_ino == st.st_ino:
                    out.append(other)
        return out

    def iter_objects(self) -> Iterator[tuple[Key, Path, os.stat_result]]:
        """Every object in the cache with its ``lstat`` (names that are not keys are skipped)."""
        for a in _listdir(self.objects):
            for b in _listdir(self.objects / a):
                for name in _listdir(self.objects / a / b):
                    key = try_parse_key(name)
                    if key is None or key.md5[0:2] != a or key.md5[2:4] != b:
                        continue
                    path = self.objects / a / b / name / name
                    try:
                        yield key, path, os.lstat(path)
                    except FileNotFoundError:
                        continue

    def clean_tmp(self, older_than: float = 24 * 3600) -> int:
        """Remove temp files left by killed processes (only old ones: others may be in flight)."""
        n = 0
        now = time.time()
        for name in _listdir(self.tmp):
            p = self.tmp / name
            with contextlib.suppress(OSError):
                if now - p.lstat().st_mtime > older_than:
                    p.unlink()
                    n += 1
        return n

    # --- manifests, trees, refs ------------------------------------------------------------------

    def _version_path(self, base: str, reg: str, project: str, asset: str, version: str, suffix: str = "") -> Path:
        return (
            self.root / base / _name_component(reg, "registry") / _name_component(project, "project")
            / _name_component(asset, "asset") / (_name_component(version, "version") + suffix)
        )

    def save_manifest(self, reg: str, project: str, asset: str, version: str, manifest: Mapping[str, object]) -> None:
        """Keep a finished version's manifest (immutable in the registry, so fetched once)."""
        path = self._version_path("manifests", reg, project, asset, version, ".json")
        atomic_write(path, json.dumps(manifest, sort_keys=True).encode())

    def load_manifest(self, reg: str, project: str, asset: str, version: str) -> dict[str, object] | None:
        path = self._version_path("manifests", reg, project, asset, version, ".json")
        try:
            data = json.loads(path.read_bytes())
        except FileNotFoundError:
            return None
        except (OSError, ValueError):
            return None  # a damaged cache entry is refetched, never trusted
        return data if isinstance(data, dict) else None

    def manifest_versions(self, reg: str, project: str, asset: str) -> list[str]:
        """Versions of an asset whose manifests are cached."""
        d = self.root / "manifests" / _name_component(reg, "registry") / _name_component(project, "project") / _name_component(asset, "asset")
        return sorted(n[:-5] for n in _listdir(d) if n.endswith(".json"))

    def put_tree(self, listing: Mapping[str, Key]) -> str:
        """Record a version's listing by its tree hash; return the hash."""
        h = tree_hash(listing)
        path = self.root / "trees" / h[0:2] / f"{h}.json"
        if not path.exists():
            atomic_write(path, json.dumps({p: k.name for p, k in sorted(listing.items())}).encode())
        return h

    def get_tree(self, h: str) -> dict[str, Key] | None:
        """A recorded listing (validated: safe paths, key names, and the hash itself)."""
        if not _HEX64.match(h):
            return None
        try:
            data = json.loads((self.root / "trees" / h[0:2] / f"{h}.json").read_bytes())
        except (OSError, ValueError):
            return None
        if not isinstance(data, dict):
            return None
        out: dict[str, Key] = {}
        for p, name in data.items():
            key = try_parse_key(name) if isinstance(name, str) else None
            if key is None or safepath.problem(p) is not None:
                return None  # not a tree selenite would write: read the manifest again (and refuse it there)
            out[p] = key
        return out if tree_hash(out) == h else None

    def set_ref(self, reg: str, project: str, asset: str, version: str, h: str) -> None:
        atomic_write(self._version_path("refs", reg, project, asset, version), (h + "\n").encode())

    def get_ref(self, reg: str, project: str, asset: str, version: str) -> str | None:
        try:
            h = self._version_path("refs", reg, project, asset, version).read_text().strip()
        except OSError:
            return None
        return h if _HEX64.match(h) else None

    # --- registered working trees (what gc must keep) ------------------------------------------------

    def register_worktree(self, path: Path, url: str | None = None) -> None:
        """Remember a working tree of this cache (again, at its current path), and the URL of its
        registry (so gc can ask that registry what it still holds after the tree is gone)."""
        self._exec("INSERT OR REPLACE INTO worktrees VALUES (?, ?)", (str(Path(path).absolute()), time.time()))
        if url:
            self._exec("INSERT OR REPLACE INTO registries VALUES (?, ?)", (registry_id(url), url))

    def registry_urls(self) -> list[str]:
        """URLs of the registries of every tree ever registered."""
        return [str(u) for (u,) in self._exec("SELECT url FROM registries ORDER BY url")]

    def forget_worktree(self, path: Path) -> None:
        self._exec("DELETE FROM worktrees WHERE path = ?", (str(Path(path).absolute()),))

    def worktrees(self) -> list[Path]:
        return [Path(str(p)) for (p,) in self._exec("SELECT path FROM worktrees ORDER BY path")]


def _object_sig(size: object, mtime_ns: object, ctime_ns: object, inode: object) -> StatSig:
    return StatSig(int(size), int(mtime_ns), int(ctime_ns), int(inode))  # type: ignore[call-overload]


def _to_stderr(text: str) -> None:
    sys.stderr.write(text + "\n")
    sys.stderr.flush()


def _listdir(path: Path) -> list[str]:
    try:
        return os.listdir(path)
    except (FileNotFoundError, NotADirectoryError):
        return []


def read_object(cache: Cache, key: Key) -> Iterator[bytes]:
    """The object's bytes in chunks, checked against the key as they are read (for copies)."""
    h = hashlib.md5(usedforsecurity=False)
    size = 0
    with open(cache.object_path(key), "rb") as f:
        for block in iter_chunks(f, CHUNK):
            h.update(block)
            size += len(block)
            yield block
    if size != key.size or h.hexdigest() != key.md5:
        raise ChecksumMismatch(f"cache object {key.name} does not match its key (run `selenite fsck --repair`)")
