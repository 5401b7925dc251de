"""Making objects durable without an fsync per object: Git's ``core.fsyncMethod=batch`` model.

A batch of objects is made durable in three steps:

1. each object's bytes are written to its temp file and their writeback to disk is *started*
   (``fsbatch.start_writeback``: no waiting, no disk-cache flush);
2. ``fsbatch.flush``: wait for that writeback, then ONE full ``fsync`` of a fresh empty file in
   ``tmp/`` - the journal commit and the disk-cache flush that make every written byte durable;
3. only then are the temp files renamed to their keys.

A crash at any moment therefore never leaves a wrong object under a valid key: before step 3 no
key exists, and every rename follows the flush of its bytes. The renames themselves become durable
at the next flush (the end of a ``deferred`` block, or the one before the next batch); a rename a
crash loses leaves the object missing, never wrong, and the next command fetches it again.

Like Git's batch mode, this relies on a full fsync committing the filesystem's journal as a whole
(ext4, xfs). Where ``sync_file_range`` does not exist (not Linux), every temp file gets its own
fsync and every folder objects were renamed into is fsync'd.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from pathlib import Path

from selenite import fsbatch
from selenite.util import fsync_dir


class DirSync:
    """Durability of the renames of objects into their folders (shared by a cache's threads):
    one flush per batch in the batch model, else an fsync of each folder."""

    def __init__(self, tmp: Path, batch: bool) -> None:
        self._tmp, self.batch = tmp, batch
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
        """Within this block, the renames of objects into place are made durable once, at its end,
        instead of after every object (each object's bytes are still durable before its rename).
        In the batch model that is one flush; otherwise each folder (and the folders those were
        made in) is fsync'd once."""
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
                if self.batch:
                    if dirs:
                        fsbatch.barrier(self._tmp)
                else:
                    for d in sorted(dirs | {d.parent for d in dirs}, key=lambda p: len(p.parts), reverse=True):
                        fsync_dir(d)
