"""Making an object's rename durable: the folder it was renamed into is fsync'd, at once or, for
many objects, once per folder at the end of a batch."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from pathlib import Path

from selenite.util import fsync_dir


class DirSync:
    """The fsync of folders objects were renamed into (shared by a cache's threads)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pending: set[Path] | None = None  # inside ``deferred``: folders to fsync at its end

    def sync(self, d: Path) -> None:
        with self._lock:
            if self._pending is not None:
                self._pending.add(d)
                return
        fsync_dir(d)

    @contextlib.contextmanager
    def deferred(self) -> Iterator[None]:
        """Within this block, the directory fsync that makes each object's rename durable is done
        once per directory at the end instead of after every object (each object's own bytes are
        still fsync'd before its rename). Thousands of small downloads then cost one journal commit
        for their renames, not one each. Also syncs the folders the objects' folders were made in."""
        with self._lock:
            outer = self._pending is not None
            if not outer:
                self._pending = set()
        try:
            yield
        finally:
            if not outer:
                with self._lock:
                    dirs, self._pending = self._pending or set(), None
                for d in sorted(dirs | {d.parent for d in dirs}, key=lambda p: len(p.parts), reverse=True):
                    fsync_dir(d)
