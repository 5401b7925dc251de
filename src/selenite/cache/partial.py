"""Partial downloads of large objects, kept across interruptions so that a later run resumes them.

    <cache>/tmp/partial-<KEY>     the first bytes of KEY's object, appended to as they arrive

A download of an object of at least ``RESUMABLE`` bytes is written here instead of to an anonymous
temp file, and is left here when it is interrupted (Ctrl-C, a broken connection, kill -9). The next
download of the key hashes the bytes already there and asks the registry only for the rest. The
whole object's md5 and size are checked before the rename into ``objects/``, exactly as for any
download, so bytes a crash left wrong are never installed: they fail the check, the partial is
dropped, and the download starts over. While a process appends to a partial it holds an exclusive
``flock`` on it; another process that finds it locked downloads into a temp file of its own.
``gc`` removes partials nobody touched for a day, as every other temp file (``clean_tmp``).
"""

from __future__ import annotations

import contextlib
import fcntl
import io
import os
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

from selenite import fsbatch
from selenite.cache.objects import ObjectStore
from selenite.errors import ChecksumMismatch
from selenite.keys import Digest, Key

RESUMABLE = 8 << 20  # smaller objects download in well under a second: not worth a partial
# The disk starts writing a large object's bytes every this many while the rest arrives, so the
# fsync before its rename finds them written, instead of the whole object left to write then.
WRITEBACK_EVERY = 16 << 20
PREFIX = "partial-"


class Partial:
    """The locked partial file of one key: what it holds (hashed), appending, installing."""

    def __init__(self, store: PartialStore, key: Key, path: Path, f: io.BufferedRandom) -> None:
        self._store, self.key, self.path, self._f = store, key, path, f
        self.digest = Digest()

    def held(self) -> int:
        """Hash the bytes already there (a partial longer than its object is emptied) and return
        how many there are; appending goes on after them."""
        if os.fstat(self._f.fileno()).st_size > self.key.size:
            self.restart()
            return 0
        self.digest = Digest()
        self._f.seek(0)
        self.digest.read_all(self._f)
        return self.digest.size

    def restart(self) -> None:
        """Empty the partial: the next bytes are the object's first."""
        self._f.seek(0)
        self._f.truncate()
        self.digest = Digest()

    def append(self, chunks: Iterable[bytes], on_bytes: Callable[[int], None] | None = None) -> None:
        unsynced = 0
        for block in chunks:
            if self.digest.size + len(block) > self.key.size:
                raise ChecksumMismatch(f"{self.key.name}: more than the {self.key.size} bytes declared")
            self._f.write(block)
            self.digest.update(block)
            if on_bytes is not None:
                on_bytes(len(block))
            unsynced += len(block)
            if unsynced >= WRITEBACK_EVERY:
                self._f.flush()
                fsbatch.start_writeback(self._f.fileno())
                unsynced = 0

    def install(self, what: str, replace: bool = False) -> Path:
        """Check the whole object, then move it into ``objects/``. Wrong bytes drop the partial
        (the next attempt starts from zero) and raise ``ChecksumMismatch``."""
        self._f.flush()
        if not self.digest.matches(self.key):
            self._drop()
            self.digest.check(self.key, what)
        os.fsync(self._f.fileno())
        return self._store.install_partial(self.path, self.key, replace)

    def _drop(self) -> None:
        self.restart()
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.path)


class PartialStore(ObjectStore):
    """The object store with resumable partial downloads (see the module docstring)."""

    def partial_path(self, key: Key) -> Path:
        return self.tmp / f"{PREFIX}{key.name}"

    def install_partial(self, path: Path, key: Key, replace: bool) -> Path:
        """Move a complete, checked, fsync'd partial into place as ``key``'s object."""
        return self._install(path, key, replace=replace)

    @contextlib.contextmanager
    def partial(self, key: Key) -> Iterator[Partial | None]:
        """The key's partial, locked for this process; None when another process is appending to it."""
        path = self.partial_path(key)
        for _ in range(10):
            fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o644)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(fd)
                yield None
                return
            # The lock holder before us may have installed (renamed) or dropped this file after we
            # opened it: then our descriptor names an object or nothing, never a partial. Again.
            try:
                same = os.stat(path, follow_symlinks=False).st_ino == os.fstat(fd).st_ino
            except FileNotFoundError:
                same = False
            if same:
                break
            os.close(fd)
        else:
            yield None
            return
        with os.fdopen(fd, "r+b") as f:
            yield Partial(self, key, path, f)
