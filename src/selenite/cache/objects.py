"""The objects themselves: storing bytes under their key, and removing, listing and reading them.

    <cache>/objects/<md5[0:2]>/<md5[2:4]>/<KEY>/<KEY>   content, 0444; its <KEY>/ directory 0555
    <cache>/tmp/                                        in-flight writes (same filesystem as objects/)
    <cache>/kept/<when>-<pid>-<tid>-<KEY>               bytes of a damaged object, kept before it was restored

Safety with several processes: objects only ever appear by ``os.replace`` of a fully written,
checked, fsync'd temp file, so a reader sees a whole object or none; two writers of the same key
race harmlessly (same bytes).
"""

from __future__ import annotations

import contextlib
import itertools
import os
import secrets
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path
from typing import BinaryIO

from selenite import fsbatch, statsig
from selenite.cache.durable import DirSync
from selenite.cache.meta import listdir
from selenite.cache.state import CORRUPTED, OK, CacheState
from selenite.errors import ChecksumMismatch, FatalError
from selenite.keys import Digest, Key, extension_of, iter_chunks, object_relpath, try_parse_key
from selenite.statsig import StatSig

KEPT = "kept"  # damaged objects' bytes, moved aside before the object is restored


class ObjectStore(CacheState):
    """Objects under ``root/objects``, written through ``root/tmp``."""

    def __init__(self, root: Path) -> None:
        super().__init__(root)
        self.tmp = self.root / "tmp"
        self._dirs = DirSync(self.tmp, fsbatch.available())
        self._made: set[str] = set()  # folders of objects/ known to exist (one mkdir each per process)
        self._temp_prefix = f"{self.tmp}{os.sep}in-{os.getpid()}-{secrets.token_hex(4)}-"
        self._temp_seq = itertools.count()  # next() is atomic: threads draw distinct numbers
        # Where warnings that must reach the user go (damaged bytes kept aside); stderr by default.
        self.notice: Callable[[str], None] = _to_stderr
        for d in (self.objects, self.tmp, self.root / "locks"):
            try:
                d.mkdir(parents=True, exist_ok=True)
            except OSError as e:
                raise FatalError(f"cannot create the cache at {self.root}: {e.strerror}") from None

    # --- storing ----------------------------------------------------------------------------

    def _make_dir(self, d: str) -> bool:
        """Make ``d`` (an object's folder) and its parents, asking the filesystem for each parent
        once per process: a clone of thousands of objects otherwise costs thousands of mkdirs.
        True when this call made ``d`` (so it is empty and writable). Plain strings, no ``Path``:
        this runs per object of a download."""
        parent = os.path.dirname(d)
        if parent not in self._made:
            os.makedirs(parent, exist_ok=True)
            self._made.add(parent)
        try:
            os.mkdir(d, 0o755)
            return True
        except FileExistsError:
            return False
        except FileNotFoundError:  # the parent was removed meanwhile (gc of an empty folder): again
            os.makedirs(parent, exist_ok=True)
            with contextlib.suppress(FileExistsError):
                os.mkdir(d, 0o755)
            return False

    def _install(self, tmp: Path | str, key: Key, replace: bool = False,
                 signed: list[Key] | None = None) -> Path:
        """Move a checked temp file into place as ``key``'s object, read-only in a read-only dir.
        ``signed``, when given, collects the key to be signed by the caller (one transaction for a
        batch) instead of signing it here."""
        final = self._objects_prefix + object_relpath(key)
        d = os.path.dirname(final)
        # A folder this call made is empty and writable: no object to keep, no chmod needed (two
        # syscalls fewer per object of a fresh clone).
        fresh = self._make_dir(d)
        for attempt in range(20):
            if not fresh and not replace and os.path.exists(final):
                if self.state(key) == OK:
                    # Another process (or an earlier run) stored the same bytes: keep theirs.
                    with contextlib.suppress(FileNotFoundError):
                        os.unlink(tmp)
                    return Path(final)
                # Bytes that no longer match their key were written through a link somewhere:
                # they are someone's edit, so they are kept aside before the object is restored.
                self._keep_damaged(key)
            try:
                statsig.backdate(tmp)  # so it can be signed at once (not racily clean)
                os.chmod(tmp, 0o444)
                if not fresh:
                    os.chmod(d, 0o755)
                os.replace(tmp, final)
                break
            except PermissionError:
                # A concurrent writer made the directory read-only between our chmod and rename
                # (or since we made it): chmod it again, and keep its object if it is good.
                fresh = False
                if attempt == 19:
                    raise
                time.sleep(0.01 * (attempt + 1))
        with contextlib.suppress(OSError):
            os.chmod(d, 0o555)
        self._dirs.sync(Path(d))
        if signed is None:
            self.record_signature(key)
        else:
            signed.append(key)
        return Path(final)

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

    def deferred_dir_sync(self) -> contextlib.AbstractContextManager[None]:
        """Within this block, the folders objects are renamed into are fsync'd once each, at its
        end (``DirSync.deferred``): thousands of small downloads cost one journal commit."""
        return self._dirs.deferred()

    def _new_temp(self) -> tuple[int, str]:
        """A new temp file in ``tmp/`` (``in-<pid>-<random>-<n>.part``), open for writing: what
        ``tempfile.mkstemp`` makes (O_EXCL, mode 0600), without its per-call argument checks and
        name draws, a tenth of the Python time of a small-file download."""
        while True:
            name = f"{self._temp_prefix}{next(self._temp_seq)}.part"
            try:
                return os.open(name, os.O_RDWR | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600), name
            except FileExistsError:  # a forked process counting from the same start: the next number
                continue

    @contextlib.contextmanager
    def _temp(self) -> Iterator[tuple[Path, BinaryIO]]:
        """A temp file in ``tmp/``, open for writing, removed if the block raises. It is handed out
        as a file object, never a raw descriptor: closing it twice is then harmless, whereas a
        second ``os.close`` of a number another thread has meanwhile been given closes *their*
        file or socket."""
        fd, name = self._new_temp()
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
            digest = Digest()
            with out:
                for block in chunks:
                    if digest.size + len(block) > key.size:  # never store more than the key can hold
                        raise ChecksumMismatch(f"{what or key.name}: more than the {key.size} bytes declared")
                    digest.update(block)
                    out.write(block)
                    if on_bytes is not None:
                        on_bytes(len(block))
                out.flush()
                os.fsync(out.fileno())
            digest.check(key, what or key.name)
            return self._install(tmp, key, replace=replace)

    def put_many(self, items: Iterable[tuple[Key, bytes]], replace: bool = False) -> None:
        """Store several small objects (bytes in memory) with one flush to disk for the lot.

        Each object is written to ``tmp/`` and checked against its key; once all are written, one
        flush makes their bytes durable (``fsbatch.flush``: Git's batch model), and only then
        are they renamed into place, their signatures recorded in one transaction. Wrong bytes
        raise ``ChecksumMismatch`` before any object of the lot is installed."""
        files: list[tuple[Key, str]] = []
        fds: list[int] = []
        installed = 0
        try:
            try:
                for key, data in items:
                    fd, name = self._new_temp()
                    fds.append(fd)
                    files.append((key, name))
                    view = memoryview(data)
                    while view:
                        view = view[os.write(fd, view) :]
                    if self._dirs.batch:
                        fsbatch.start_writeback(fd)
                    digest = Digest()
                    digest.update(data)
                    digest.check(key, key.name)
                if fds:
                    fsbatch.flush(fds, self.tmp, self._dirs.batch)
            finally:
                while fds:  # popped before closing: no descriptor is ever closed twice
                    fd = fds.pop()
                    with contextlib.suppress(OSError):
                        os.close(fd)
            signed: list[Key] = []
            try:
                for key, tmp in files:
                    self._install(tmp, key, replace=replace, signed=signed)
                    installed += 1
            finally:
                self.record_signatures(signed)
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
                digest = Digest()
                for block in digest.passing(chunks):
                    out.write(block)
                key = Key(digest.hexdigest(), digest.size, extension_of(filename))
                if expected is not None:
                    digest.check(expected, what or filename)
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
        for other in self.same_content(key):
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

    def ensure_local(self, key: Key, sigs: Mapping[str, StatSig] | None = None) -> bool:
        """True when ``key`` is present and intact, or could be made so from a sibling object
        (``sigs``: every signature, from ``signatures()``, when many keys are asked about)."""
        if self.state(key, sigs) == OK:
            return True
        return self.link_sibling(key)

    # --- removing, listing, reading ---------------------------------------------------------------

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

    def iter_objects(self) -> Iterator[tuple[Key, Path, os.stat_result]]:
        """Every object in the cache with its ``lstat`` (names that are not keys are skipped)."""
        for a in listdir(self.objects):
            for b in listdir(self.objects / a):
                for name in listdir(self.objects / a / b):
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
        for name in listdir(self.tmp):
            p = self.tmp / name
            with contextlib.suppress(OSError):
                if now - p.lstat().st_mtime > older_than:
                    p.unlink()
                    n += 1
        return n

def _to_stderr(text: str) -> None:
    sys.stderr.write(text + "\n")
    sys.stderr.flush()


def read_object(cache: ObjectStore, key: Key) -> Iterator[bytes]:
    """The object's bytes in chunks, checked against the key as they are read (for copies)."""
    digest = Digest()
    with open(cache.object_path(key), "rb") as f:
        yield from digest.passing(iter_chunks(f))
    if not digest.matches(key):
        raise ChecksumMismatch(f"cache object {key.name} does not match its key (run `selenite fsck --repair`)")
