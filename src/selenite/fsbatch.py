"""Durability of many small files with one flush: Git's ``core.fsyncMethod=batch`` model, shared by
the client's cache (``cache/durable.py`` tells the model) and the server's folder storage.

Write every file and start its writeback (``start_writeback``: ``sync_file_range`` with
``SYNC_FILE_RANGE_WRITE``, no waiting); then ``flush``: wait for that writeback and make ONE full
``fsync`` of a new empty file (``barrier``), which commits the filesystem's journal and flushes the
disk's cache; only then rename the files into place. Like Git's batch mode this relies on a full
fsync committing the journal as a whole (ext4, xfs). Without ``sync_file_range`` (not Linux)
``flush`` fsyncs every file instead.
"""

from __future__ import annotations

import contextlib
import ctypes
import functools
import os
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path

_WAIT_BEFORE, _WRITE, _WAIT_AFTER = 1, 2, 4  # SYNC_FILE_RANGE_* of <fcntl.h>


@functools.cache
def _sfr() -> Callable[[int, int, int, int], int] | None:
    """libc's ``sync_file_range``, or None where there is none (Python's ``os`` does not wrap it)."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        fn = libc.sync_file_range
    except (OSError, AttributeError):
        return None
    fn.argtypes = [ctypes.c_int, ctypes.c_int64, ctypes.c_int64, ctypes.c_uint]
    fn.restype = ctypes.c_int
    return fn


def available() -> bool:
    """Whether this system has what the batch model needs (``sync_file_range``)."""
    return _sfr() is not None


def start_writeback(fd: int) -> None:
    """Start writing ``fd``'s dirty pages to disk without waiting; a no-op without
    ``sync_file_range`` (``flush`` then fsyncs the file)."""
    if (sfr := _sfr()) is not None:
        sfr(fd, 0, 0, _WRITE)


def flush(fds: Sequence[int], tmp: Path, batch: bool) -> None:
    """Make the bytes written to ``fds`` durable: with one disk flush for the lot when ``batch``
    (their writeback was started; the flush file is made in ``tmp``), else one fsync each."""
    sfr = _sfr() if batch else None
    if sfr is None:
        for fd in fds:
            os.fsync(fd)
        return
    for fd in fds:
        # Wait for the writeback started at write time (and write what was dirtied since).
        if sfr(fd, 0, 0, _WAIT_BEFORE | _WRITE | _WAIT_AFTER) != 0:
            os.fsync(fd)
    barrier(tmp)


def barrier(tmp: Path) -> None:
    """The one full flush: fsync a new empty file, which commits the filesystem's journal (every
    earlier rename and allocation) and flushes the disk's cache, as Git's batch mode does."""
    fd, name = tempfile.mkstemp(dir=tmp, prefix="flush-", suffix=".part")
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
        with contextlib.suppress(FileNotFoundError):
            os.unlink(name)
