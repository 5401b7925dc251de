"""Where the registry keeps its bytes: the one interface every backend (a folder, S3) implements.

The app (``selenite.server.app``) only ever talks to a :class:`Storage`. A backend holds three
separate areas:

* the **bucket**: the gypsum key space (``project/asset/version/path``, ``..logs/...``). Everything
  here is public through ``GET /file`` and ``GET /list``.
* the **staging** area: upload bodies of live sessions (``{project}/{session}/{path}``, see
  ``selenite.server.staging``). Never served nor counted; ``complete`` moves its objects into the
  bucket, ``abort``, lock take-over and the staging sweep delete them.
* the **state** area: server secrets (token hashes, the upload-signing secret, lock take-over
  markers). Never reachable through the API; names in it never collide with bucket keys.

Every method that takes a key validates it with :func:`validate_key` first (or an equivalent
check), so a key from the network can never name anything outside the bucket. Methods raise
:class:`BadStorageKey` for a bad key and return ``None`` / ``False`` for "absent" / "already
there"; other failures are ordinary ``OSError``s (or the backend's own errors) and end up as a 500.

Contract notes for a new backend (the S3 one is written against this page):

* ``put_bytes`` / ``put_stream`` replace atomically: readers see the old object or the new one.
* ``create_exclusive`` is the project lock: exactly one of many concurrent callers gets ``True``
  (folder: ``link(2)`` of a complete temp file; S3: ``PutObject`` with ``If-None-Match: *``).
* ``put_stream`` must hash while it stores and store **nothing** when the md5 differs.
* ``list_dir`` follows S3 ``ListObjectsV2`` with ``Delimiter='/'``: common prefixes (full keys
  ending in ``/``) first, then the objects directly under ``prefix``; ``prefix`` is a raw string
  prefix that need not end in ``/``. ``list_recursive`` yields every ``(key, size)`` under
  ``prefix`` in key order. A "directory" with no object under it is never listed.
* ``presign_put`` returns an absolute URL the client will ``PUT`` the bytes to, with a
  ``Content-MD5: <md5_b64>`` header, landing in the **staging** area, never in the bucket; or
  ``None`` when the backend has no URLs of its own (the folder): the app then hands out a signed
  URL of its own upload route (``selenite.server.signing``), whose body it stages with
  ``stage_file``. S3 returns a SigV4 presigned PutObject URL into ``staging/`` that signs
  ``Content-MD5`` and ``Content-Length`` (the store checks both).
* ``promote`` moves (folder: renames; S3: copies then deletes) one staged object into the bucket.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import BinaryIO, Protocol, runtime_checkable

from selenite.server.errors import BadStorageKey
from selenite.server.storage.ranges import ByteRange

MAX_COMPONENT_BYTES = 255  # the common filesystem limit; S3 allows 1024 bytes per whole key
MAX_KEY_BYTES = 1024  # the S3/R2 key-length limit
CHUNK = 1 << 20  # streaming reads and writes: flat memory, one MiB at a time


def utf8(s: str) -> bytes:
    """The bytes S3 and R2 order keys by (listings are sorted by them on every backend)."""
    return s.encode("utf-8", "surrogatepass")


@dataclass(frozen=True)
class ObjectInfo:
    """What a HEAD tells: enough for ETag, Last-Modified, Content-Length, Content-Type."""

    key: str
    size: int
    last_modified: datetime.datetime  # timezone-aware, UTC
    md5: str | None = None  # lowercase hex md5 of the content, when the backend knows it
    content_type: str | None = None  # as stored; None lets the app choose
    etag: str | None = None  # the store's tag of this very object (S3's ETag), when it has one


@dataclass
class ObjectStream:
    """An open object: its info and an iterator of byte chunks (flat memory). Always ``close()``.
    ``span`` is the inclusive ``(first, last)`` byte positions the chunks hold when a range was
    asked for; None: the whole object. ``file``: a local file holding those bytes from ``offset``
    (the folder backend), which the server may send without reading it (``zerocopy.py``) instead
    of iterating the chunks."""

    info: ObjectInfo
    chunks: Iterator[bytes]
    span: tuple[int, int] | None = None
    file: BinaryIO | None = None

    @property
    def length(self) -> int:
        """How many bytes the chunks hold."""
        return self.info.size if self.span is None else self.span[1] - self.span[0] + 1

    @property
    def offset(self) -> int:
        """Where the bytes start in ``file``."""
        return 0 if self.span is None else self.span[0]

    def close(self) -> None:
        close = getattr(self.chunks, "close", None)
        if close is not None:
            close()
        if self.file is not None:  # chunks never iterated do not close it
            self.file.close()


class StateStore(Protocol):
    """The part of a storage the upload signer needs: read and exclusively create a state entry."""

    def state_get(self, name: str) -> bytes | None:
        """Read a private state entry ('/'-separated name), or None."""

    def state_create_exclusive(self, name: str, data: bytes) -> bool:
        """Create a private state entry only if absent; True if this call created it."""


@runtime_checkable
class Storage(StateStore, Protocol):
    """The registry's storage. Keys are '/'-separated, validated by :func:`validate_key`."""

    # --- small objects (JSON files of the protocol) ------------------------------------------
    def get_bytes(self, key: str) -> bytes | None:
        """The whole object, or None when absent. For small files only."""

    def put_bytes(self, key: str, data: bytes, *, content_type: str | None = None) -> None:
        """Store (or atomically replace) a small object."""

    def put_many(self, items: list[tuple[str, bytes]], *, content_type: str | None = None) -> None:
        """``put_bytes`` of each ``(key, bytes)``: the folder backend flushes them to disk once for
        the lot (``selenite.fsbatch``), the S3 backend sends several at once. Each object is whole
        or absent after a crash, as with ``put_bytes``; which of them exist is not said."""

    # --- large objects --------------------------------------------------------------------
    def head(self, key: str) -> ObjectInfo | None:
        """Metadata of an object, or None when absent."""

    def open(self, key: str, byte_range: ByteRange | None = None) -> ObjectStream | None:
        """Stream an object's bytes in chunks, or None when absent. With ``byte_range``, only the
        bytes it covers (the stream's ``span``); :class:`RangeNotSatisfiable` when it covers none."""

    def put_stream(
        self, key: str, chunks: Iterable[bytes], *, md5_hex: str, content_type: str | None = None
    ) -> ObjectInfo:
        """Store bytes from an iterator, hashing as they arrive. Raises :class:`DigestMismatch`
        (and stores nothing) when their md5 is not ``md5_hex``."""

    # --- the lock primitive, deletion -----------------------------------------------------
    def create_exclusive(self, key: str, data: bytes, *, content_type: str | None = None) -> bool:
        """Create ``key`` only if it does not exist; True if this call created it. Atomic."""

    def delete(self, key: str) -> int | None:
        """Delete one object; its size, or None if it was absent."""

    def delete_prefix(self, prefix: str) -> dict[str, int]:
        """Delete every object whose key starts with ``prefix``; returns ``{key: size}`` freed."""

    # --- listing --------------------------------------------------------------------------
    def list_dir(self, prefix: str = "") -> list[str]:
        """Delimiter listing (see the module docstring): common prefixes, then keys."""

    def list_recursive(self, prefix: str = "") -> Iterator[tuple[str, int]]:
        """Every ``(key, size)`` whose key starts with ``prefix``, in key order."""

    # --- uploads (the staging area) -------------------------------------------------------
    def presign_put(self, name: str, md5_b64: str, size: int, expires: int, *, key: str) -> str | None:
        """An absolute URL to PUT ``size`` bytes with ``Content-MD5: md5_b64`` to, landing as the
        staged object ``name``, valid for ``expires`` seconds; None when the backend has none (the
        app signs one of its own). ``key`` is the version's key the bytes are for: a backend that
        cannot store it refuses it here (:class:`BadStorageKey`), before any byte is sent."""

    def spool_dir(self) -> str | None:
        """Where the upload target writes a request body before ``stage_file`` (None: system temp)."""

    def stage_file(self, name: str, path: str, *, md5_hex: str) -> ObjectInfo:
        """Move a complete local file whose md5 was checked into staging as ``name``; consumes it."""

    def stage_many(self, items: list[tuple[str, bytes, str]]) -> None:
        """Stage several small files held in memory, ``(name, bytes, md5 hex)`` each, md5 already
        checked by the caller (selenite's batched upload); the folder backend flushes them to disk
        once for the lot (``selenite.fsbatch``)."""

    def head_staged(self, name: str) -> ObjectInfo | None:
        """Metadata of a staged object, or None."""

    def list_staged(self, prefix: str = "") -> Iterator[tuple[str, int]]:
        """Every ``(name, size)`` in staging whose name starts with ``prefix``."""

    def delete_staged(self, prefix: str) -> dict[str, int]:
        """Delete every staged object whose name starts with ``prefix``; ``{name: size}`` freed."""

    def promote(self, name: str, key: str) -> ObjectInfo | None:
        """Move the staged object ``name`` to the bucket as ``key`` (replacing it); its info there,
        or None when nothing was staged under ``name`` (or it changed while being moved)."""

    def head_staged_many(self, names: list[str]) -> list[ObjectInfo | None]:
        """``head_staged`` of each name, in order (the S3 backend asks several at once)."""

    def promote_many(self, pairs: list[tuple[str, str]], seen: list[ObjectInfo] | None = None) -> list[str]:
        """``promote`` for many ``(name, key)`` pairs (the folder backend flushes once for the lot);
        the names that were not promoted. ``seen``: what ``head_staged_many`` told of each staged
        object, which the caller checked: the S3 backend copies exactly that object (by its ETag)
        without asking for it again."""

    # --- private state (never served) -----------------------------------------------------
    def state_put(self, name: str, data: bytes) -> None:
        """Write (atomically replace) a private state entry."""

    def state_delete(self, name: str) -> None:
        """Delete a private state entry (no error when absent)."""

    def state_list(self, folder: str) -> list[str]:
        """The names of the private state entries directly in ``folder`` (e.g. ``tokens``), sorted."""

    def describe(self) -> str:
        """One line for humans: where the registry lives."""


_BAD_CHARS = re.compile(r"[\x00\\]")


def validate_key(key: str, what: str = "key") -> str:
    """Refuse keys that are empty, absolute, or hold empty/'.'/'..' components, NUL or backslash."""
    if not isinstance(key, str) or not key:
        raise BadStorageKey(f"{what} cannot be empty")
    if _BAD_CHARS.search(key):
        raise BadStorageKey(f"{what} {key!r} cannot contain NUL or '\\'")
    if len(utf8(key)) > MAX_KEY_BYTES:
        raise BadStorageKey(f"{what} is longer than {MAX_KEY_BYTES} bytes")
    for part in key.split("/"):
        if part in ("", ".", ".."):
            raise BadStorageKey(f"{what} {key!r} has an empty, '.' or '..' component")
        if len(utf8(part)) > MAX_COMPONENT_BYTES:
            raise BadStorageKey(f"{what} {key!r} has a component longer than {MAX_COMPONENT_BYTES} bytes")
    return key


def validate_prefix(prefix: str) -> tuple[str, str]:
    """Split a listing prefix into its directory part (validated, '' or ending in '/') and the
    partial last component (a plain string prefix: ``test/blob/..`` lists ``..latest``)."""
    if _BAD_CHARS.search(prefix):
        raise BadStorageKey(f"prefix {prefix!r} cannot contain NUL or '\\'")
    head, sep, partial = prefix.rpartition("/")
    if sep:
        validate_key(head, "prefix")
        return head + "/", partial
    return "", partial


def is_internal(key: str) -> bool:
    """True for gypsum's internal files: any component starting with '..'."""
    return any(part.startswith("..") for part in key.split("/"))
