"""Small filesystem helpers shared by the client and the server."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterable
from pathlib import Path


def fsync_dir(path: Path) -> None:
    """Make a rename inside ``path`` durable."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def atomic_write(path: Path, data: bytes, mode: int = 0o644) -> None:
    """Write ``data`` to ``path`` so readers see the old file or the new one, never a part."""
    atomic_write_chunks(path, (data,), mode)


def atomic_write_chunks(path: Path, chunks: Iterable[bytes], mode: int = 0o644) -> None:
    """``atomic_write`` for streamed content (flat memory): temp file beside ``path``, fsync, rename.
    Whatever replaces ``path`` (a link included) is only replaced once every chunk is on disk; an
    error or Ctrl-C part way leaves ``path`` as it was."""
    path.parent.mkdir(parents=True, exist_ok=True)
    # A short temp name, whatever the length of ``path``'s: a 250-byte name must still be writable.
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".sel-", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            for block in chunks:
                f.write(block)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    fsync_dir(path.parent)


def _lines(path: Path) -> list[str]:
    try:
        return path.read_text().splitlines()
    except FileNotFoundError:
        return []


def has_marked_block(path: Path, begin: str, end: str, body: Iterable[str]) -> bool:
    """Whether the text file ``path`` holds exactly this block between the ``begin`` and ``end`` lines."""
    lines = _lines(path)
    if begin not in lines or end not in lines:
        return False
    return lines[lines.index(begin) + 1 : lines.index(end)] == list(body)


def write_marked_block(path: Path, begin: str, end: str, body: Iterable[str]) -> None:
    """Put ``body`` between the ``begin`` and ``end`` lines of a text file selenite shares with
    the user (``.git/info/exclude``, ``.git/info/attributes``): the user's own lines are kept, an
    older block is replaced, and nothing is written when the block is already there."""
    body = list(body)
    if has_marked_block(path, begin, end, body):
        return
    lines = _lines(path)
    if begin in lines and end in lines:
        del lines[lines.index(begin) : lines.index(end) + 1]
    lines += [begin, *body, end]
    atomic_write(path, ("\n".join(lines) + "\n").encode())


def user_file_mode() -> int:
    """The mode a new file of the user's gets (0666 less the umask): for writable copies."""
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask
