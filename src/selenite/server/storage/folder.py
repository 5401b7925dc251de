"""The folder backend: the registry in a plain directory.

Layout under ``root``::

    bucket/<key>      every object of the gypsum key space, as a plain file
    staging/<name>    upload bodies of live sessions, moved into bucket/ by complete; never served
    state/<name>      server-private state (token hashes, the signing secret); never served
    tmp/              in-flight writes (same filesystem, so the final rename is atomic); never listed

Writes go to ``tmp/`` and are moved into place whole, each file tagged with its md5
(``selenite.server.storage.files``).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
from collections.abc import Iterable, Iterator
from pathlib import Path

from selenite import fsbatch
from selenite.server.errors import BadStorageKey, DigestMismatch, RangeNotSatisfiable
from selenite.server.storage.base import CHUNK, ObjectInfo, ObjectStream, utf8, validate_key, validate_prefix
from selenite.server.storage.files import (
    file_info,
    has_any_file,
    install,
    make_private,
    new_temp,
    prune_empty,
    removed_on_failure,
    tag_md5,
    write_file,
)
from selenite.server.storage.ranges import ByteRange


class FolderStorage:
    """A :class:`selenite.server.storage.base.Storage` on a local directory."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root).expanduser().resolve()
        self.bucket = self.root / "bucket"
        self.state = self.root / "state"
        self.staging = self.root / "staging"
        self.tmp = self.root / "tmp"
        for d in (self.bucket, self.staging, self.state, self.tmp):
            d.mkdir(parents=True, exist_ok=True)
        make_private(self.state)

    def describe(self) -> str:
        return f"folder {self.root}"

    # --- paths ---------------------------------------------------------------------------

    def _path(self, key: str, area: Path | None = None) -> Path:
        validate_key(key)
        base = area or self.bucket
        path = base.joinpath(*key.split("/"))
        # validate_key already rules out '..'; this also catches symlinks planted inside the area.
        real = os.path.realpath(path)
        if not real.startswith(str(base) + os.sep):
            raise BadStorageKey(f"key {key!r} resolves outside the storage root")
        return path

    def _state_path(self, name: str) -> Path:
        return self._path(name, self.state)

    def _staged_path(self, name: str) -> Path:
        return self._path(name, self.staging)

    @staticmethod
    def _key_of(path: str, area: Path) -> str:
        return os.path.relpath(path, area).replace(os.sep, "/")

    # --- writing -------------------------------------------------------------------------

    def _write(self, dest: Path, data: bytes, exclusive: bool = False, mode: int = 0o644) -> bool:
        return write_file(self.tmp, dest, data, exclusive, mode)

    def put_bytes(self, key: str, data: bytes, *, content_type: str | None = None) -> None:
        self._write(self._path(key), data)

    def put_many(self, items: list[tuple[str, bytes]], *, content_type: str | None = None) -> None:
        # A version's ..links files, one per folder: 2 fsyncs each made completing a version of
        # 1,999 links in 20 folders wait for 40 disk flushes.
        self._write_many([(self._path(key), data, hashlib.md5(data).hexdigest()) for key, data in items])

    def create_exclusive(self, key: str, data: bytes, *, content_type: str | None = None) -> bool:
        return self._write(self._path(key), data, exclusive=True)

    def put_stream(
        self, key: str, chunks: Iterable[bytes], *, md5_hex: str, content_type: str | None = None
    ) -> ObjectInfo:
        dest = self._path(key)
        fd, tmp = new_temp(self.tmp)
        with removed_on_failure(tmp):
            h = hashlib.md5()
            with os.fdopen(fd, "wb") as f:
                for chunk in chunks:
                    h.update(chunk)
                    f.write(chunk)
                f.flush()
                actual = h.hexdigest()
                if actual != md5_hex.lower():
                    raise DigestMismatch(key, md5_hex.lower(), actual)
                os.fsync(f.fileno())
                tag_md5(f.fileno(), actual)
            os.chmod(tmp, 0o644)
            install(tmp, dest, exclusive=False)
        info = self.head(key)
        assert info is not None
        return info

    # --- reading -------------------------------------------------------------------------

    def get_bytes(self, key: str) -> bytes | None:
        try:
            return self._path(key).read_bytes()
        except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
            return None

    def head(self, key: str) -> ObjectInfo | None:
        return file_info(key, self._path(key))

    def open(self, key: str, byte_range: ByteRange | None = None) -> ObjectStream | None:
        path = self._path(key)
        try:
            f = open(path, "rb")  # noqa: SIM115 - closed by the generator below
        except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
            return None
        info = file_info(key, path, f.fileno())
        if info is None:
            f.close()
            return None
        span = None
        if byte_range is not None:
            span = byte_range.span(info.size)
            if span is None:
                f.close()
                raise RangeNotSatisfiable(key, info.size)
            f.seek(span[0])
        stream = ObjectStream(info=info, chunks=iter(()), span=span, file=f)

        def chunks() -> Iterator[bytes]:
            # Read exactly the size we announced (Content-Length), even if the file grows.
            try:
                left = stream.length
                while left > 0:
                    block = f.read(min(CHUNK, left))
                    if not block:
                        break
                    left -= len(block)
                    yield block
            finally:
                f.close()

        stream.chunks = chunks()
        return stream

    # --- deleting ------------------------------------------------------------------------

    def _prune(self, directory: Path, area: Path | None = None) -> None:
        prune_empty(directory, area or self.bucket)

    def delete(self, key: str) -> int | None:
        path = self._path(key)
        try:
            size = path.stat().st_size
            path.unlink()
        except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
            return None
        self._prune(path.parent)
        return size

    def delete_prefix(self, prefix: str) -> dict[str, int]:
        return self._delete_under(prefix, self.bucket)

    def _delete_under(self, prefix: str, area: Path) -> dict[str, int]:
        freed: dict[str, int] = {}
        dirs: set[Path] = set()
        for key, size in list(self._walk(prefix, area)):
            path = area.joinpath(*key.split("/"))
            with contextlib.suppress(FileNotFoundError):
                path.unlink()
                freed[key] = size
                dirs.add(path.parent)
        # Deepest first, so that emptied children go before their parents.
        for d in sorted(dirs, key=lambda p: len(p.parts), reverse=True):
            self._prune(d, area)
        return freed

    # --- listing -------------------------------------------------------------------------

    def _dir_for(self, prefix: str, area: Path | None = None) -> tuple[Path, str, str]:
        area = area or self.bucket
        head, partial = validate_prefix(prefix)
        directory = area.joinpath(*head.rstrip("/").split("/")) if head else area
        real = os.path.realpath(directory)
        if real != str(area) and not real.startswith(str(area) + os.sep):
            raise BadStorageKey(f"prefix {prefix!r} resolves outside the storage root")
        return directory, head, partial

    def list_dir(self, prefix: str = "") -> list[str]:
        directory, head, partial = self._dir_for(prefix)
        prefixes: list[str] = []
        keys: list[str] = []
        try:
            entries = list(os.scandir(directory))
        except (FileNotFoundError, NotADirectoryError):
            return []
        for e in entries:
            if not e.name.startswith(partial):
                continue
            if e.is_dir(follow_symlinks=False):
                if has_any_file(e.path):
                    prefixes.append(f"{head}{e.name}/")
            elif e.is_file(follow_symlinks=False):
                keys.append(head + e.name)
        return sorted(prefixes, key=utf8) + sorted(keys, key=utf8)

    def list_recursive(self, prefix: str = "") -> Iterator[tuple[str, int]]:
        return self._walk(prefix, self.bucket)

    def _walk(self, prefix: str, area: Path) -> Iterator[tuple[str, int]]:
        directory, _head, partial = self._dir_for(prefix, area)
        found: list[tuple[str, int]] = []
        try:
            top = list(os.scandir(directory))
        except (FileNotFoundError, NotADirectoryError):
            return iter(())
        stack = [e for e in top if e.name.startswith(partial)]
        while stack:
            e = stack.pop()
            try:
                if e.is_dir(follow_symlinks=False):
                    stack.extend(os.scandir(e.path))
                elif e.is_file(follow_symlinks=False):
                    found.append((self._key_of(e.path, area), e.stat(follow_symlinks=False).st_size))
            except FileNotFoundError:  # deleted while we walked
                continue
        found.sort(key=lambda ks: utf8(ks[0]))
        return iter(found)

    # --- uploads -------------------------------------------------------------------------

    def presign_put(self, name: str, md5_b64: str, size: int, expires: int, *, key: str) -> str | None:
        # No URLs of its own: the app signs one of its own upload route, which stages the body.
        validate_key(name)
        validate_key(key)
        return None

    def spool_dir(self) -> str:
        return str(self.tmp)  # same filesystem as staging/: stage_file is a rename

    def stage_file(self, name: str, path: str, *, md5_hex: str) -> ObjectInfo:
        with removed_on_failure(path):
            dest = self._staged_path(name)
            fd = os.open(path, os.O_RDONLY)
            try:
                os.fsync(fd)
                tag_md5(fd, md5_hex.lower())
            finally:
                os.close(fd)
            os.chmod(path, 0o644)
            install(path, dest, exclusive=False)
        info = file_info(name, dest)
        assert info is not None
        return info

    def stage_many(self, items: list[tuple[str, bytes, str]]) -> None:
        self._write_many([(self._staged_path(name), data, md5_hex) for name, data, md5_hex in items])

    def _write_many(self, items: list[tuple[Path, bytes, str]]) -> None:
        """Write ``(destination, bytes, md5 hex)`` files by Git's batch model (selenite.fsbatch):
        every file written, one flush, then the renames, made durable by one more flush. A crash
        never leaves a file with wrong bytes under its name."""
        batch = fsbatch.available()
        temps: list[tuple[str, Path]] = []
        fds: list[int] = []
        done = 0
        try:
            try:
                for dest, data, md5_hex in items:
                    fd, tmp = new_temp(self.tmp)
                    fds.append(fd)
                    temps.append((tmp, dest))
                    view = memoryview(data)
                    while view:
                        view = view[os.write(fd, view):]
                    tag_md5(fd, md5_hex.lower())
                    os.fchmod(fd, 0o644)
                    if batch:
                        fsbatch.start_writeback(fd)
                fsbatch.flush(fds, self.tmp, batch)
            finally:
                while fds:
                    os.close(fds.pop())
            for tmp, dest in temps:
                install(tmp, dest, exclusive=False, sync_dir=not batch)
                done += 1
        finally:
            for tmp, _ in temps[done:]:
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(tmp)
        if items and batch:
            fsbatch.barrier(self.tmp)

    def head_staged(self, name: str) -> ObjectInfo | None:
        return file_info(name, self._staged_path(name))

    def list_staged(self, prefix: str = "") -> Iterator[tuple[str, int]]:
        return self._walk(prefix, self.staging)

    def delete_staged(self, prefix: str) -> dict[str, int]:
        return self._delete_under(prefix, self.staging)

    def promote(self, name: str, key: str) -> ObjectInfo | None:
        return self.head(key) if self._move_staged(name, key, sync_dir=True) else None

    def head_staged_many(self, names: list[str]) -> list[ObjectInfo | None]:
        return [self.head_staged(name) for name in names]

    def promote_many(self, pairs: list[tuple[str, str]], seen: list[ObjectInfo] | None = None) -> list[str]:
        batch = fsbatch.available()  # the renames made durable by one flush, not a folder fsync each
        missed = [name for name, key in pairs if not self._move_staged(name, key, sync_dir=not batch)]
        if batch and len(missed) < len(pairs):
            fsbatch.barrier(self.tmp)
        return missed

    def _move_staged(self, name: str, key: str, sync_dir: bool) -> bool:
        src, dest = self._staged_path(name), self._path(key)
        if not src.is_file():
            return False
        try:  # a rename: xattr (md5) and mtime move along
            install(str(src), dest, exclusive=False, sync_dir=sync_dir)
        except FileNotFoundError:
            return False  # swept or replaced meanwhile
        self._prune(src.parent, self.staging)
        return True

    # --- private state -------------------------------------------------------------------

    def state_get(self, name: str) -> bytes | None:
        try:
            return self._state_path(name).read_bytes()
        except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
            return None

    def state_put(self, name: str, data: bytes) -> None:
        self._write(self._state_path(name), data, mode=0o600)

    def state_create_exclusive(self, name: str, data: bytes) -> bool:
        return self._write(self._state_path(name), data, exclusive=True, mode=0o600)

    def state_delete(self, name: str) -> None:
        with contextlib.suppress(FileNotFoundError):
            self._state_path(name).unlink()

    def state_list(self, folder: str) -> list[str]:
        try:
            with os.scandir(self._state_path(folder)) as it:
                return sorted(f"{folder}/{e.name}" for e in it if e.is_file(follow_symlinks=False))
        except (FileNotFoundError, NotADirectoryError):
            return []
