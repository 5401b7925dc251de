"""The folder backend's file handling: whole files written beside their destination and moved into
place, each tagged with its md5, and the directory chores around them.

Writes go to a temp folder on the same filesystem, are fsync'd and renamed (or, for an exclusive
create, hard-linked) into place, so readers see whole files only. Each stored file carries its md5
in an extended attribute (``user.selenite.md5`` = ``<md5> <size> <mtime_ns>``) when the filesystem
allows it, so ETags are real md5s without re-reading big files; a stale or missing attribute is
simply ignored.
"""

from __future__ import annotations

import contextlib
import datetime
import errno
import hashlib
import os
import stat
import tempfile
from collections.abc import Iterator
from pathlib import Path

from selenite.server.storage.base import ObjectInfo
from selenite.util import fsync_dir

_XATTR = "user.selenite.md5"
_SMALL = 1 << 20  # files up to this size get their md5 computed on HEAD when no xattr is there


def new_temp(tmp_dir: Path) -> tuple[int, str]:
    """An open temp file in ``tmp_dir``: (fd, path)."""
    return tempfile.mkstemp(dir=tmp_dir, prefix="w-", suffix=".part")


def tag_md5(fd: int, md5: str) -> None:
    """Record ``md5`` on the open file, with the size and mtime it is valid for."""
    st = os.fstat(fd)
    with contextlib.suppress(OSError):  # no xattrs on this filesystem: ETag falls back
        os.setxattr(fd, _XATTR, f"{md5} {st.st_size} {st.st_mtime_ns}".encode())


def install(tmp: str, dest: Path, exclusive: bool, sync_dir: bool = True) -> bool:
    """Move a finished temp file into place; False if ``exclusive`` and ``dest`` exists. Without
    ``sync_dir`` the caller makes the rename durable (one flush for a batch)."""
    for _ in range(5):
        dest.parent.mkdir(parents=True, exist_ok=True)
        try:
            if exclusive:
                os.link(tmp, dest)  # atomic, fails if dest exists, and dest is never partial
                os.unlink(tmp)
            else:
                os.replace(tmp, dest)
            if sync_dir:
                fsync_dir(dest.parent)
            return True
        except FileExistsError:
            os.unlink(tmp)
            return False
        except FileNotFoundError:
            # A concurrent delete pruned the (then empty) parent directory: recreate, retry.
            if not os.path.exists(tmp):
                raise
    raise OSError(errno.EAGAIN, f"could not create the directory for {dest}")


@contextlib.contextmanager
def removed_on_failure(tmp: str) -> Iterator[None]:
    """Delete ``tmp`` if the block fails (a temp file never outlives a failed write)."""
    try:
        yield
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def write_file(tmp_dir: Path, dest: Path, data: bytes, exclusive: bool = False, mode: int = 0o644) -> bool:
    """Store ``data`` at ``dest`` atomically (see :func:`install` for ``exclusive``)."""
    fd, tmp = new_temp(tmp_dir)
    with removed_on_failure(tmp):
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
            tag_md5(f.fileno(), hashlib.md5(data).hexdigest())
        os.chmod(tmp, mode)
        return install(tmp, dest, exclusive)


def file_info(key: str, path: Path, fd: int | None = None) -> ObjectInfo | None:
    """What a HEAD tells of the regular file at ``path`` (or open as ``fd``); None when absent."""
    try:
        st = os.fstat(fd) if fd is not None else os.stat(path)
    except (FileNotFoundError, NotADirectoryError):
        return None
    if not stat.S_ISREG(st.st_mode):
        return None
    md5 = None
    with contextlib.suppress(OSError):
        tag = os.getxattr(fd if fd is not None else path, _XATTR).decode().split()
        if len(tag) == 3 and tag[1:] == [str(st.st_size), str(st.st_mtime_ns)]:
            md5 = tag[0]
    if md5 is None and st.st_size <= _SMALL:
        with contextlib.suppress(OSError):
            md5 = hashlib.md5(path.read_bytes()).hexdigest()
    modified = datetime.datetime.fromtimestamp(st.st_mtime, datetime.UTC)
    return ObjectInfo(key=key, size=st.st_size, last_modified=modified, md5=md5)


def prune_empty(directory: Path, area: Path) -> None:
    """Remove now-empty directories from ``directory`` up to (not including) ``area``."""
    d = directory
    while d != area and str(d).startswith(str(area) + os.sep):
        try:
            d.rmdir()
        except OSError:
            return
        d = d.parent


def has_any_file(path: str) -> bool:
    """True if a directory holds at least one file somewhere below it (a listed 'prefix')."""
    stack = [path]
    while stack:
        try:
            with os.scandir(stack.pop()) as it:
                for e in it:
                    if e.is_file(follow_symlinks=False):
                        return True
                    if e.is_dir(follow_symlinks=False):
                        stack.append(e.path)
        except (FileNotFoundError, NotADirectoryError):
            continue
    return False


def make_private(state: Path) -> None:
    """Secrets (token hashes, the signing secret) readable by the server's user only: 0700 folders,
    0600 files, also for those an older version wrote 0644."""
    os.chmod(state, 0o700)
    for dirpath, dirnames, filenames in os.walk(state):
        for name in dirnames:
            os.chmod(os.path.join(dirpath, name), 0o700)
        for name in filenames:
            path = os.path.join(dirpath, name)
            if stat.S_IMODE(os.lstat(path).st_mode) & 0o077 and not os.path.islink(path):
                os.chmod(path, 0o600)
