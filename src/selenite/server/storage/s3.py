"""The S3 backend: the registry in an S3-compatible bucket (AWS S3, R2, Ceph RGW, MinIO, SeaweedFS).

Layout under ``s3://BUCKET/PREFIX/``::

    bucket/<key>      every object of the gypsum key space
    staging/<name>    upload bodies, PUT there by clients, copied into bucket/ by complete; never served
    state/<name>      server-private state (token hashes, the signing secret, lock take-overs)

Nothing lives in the server process, so any number of ``selenite serve`` processes can share one
bucket behind a load balancer. File bytes never pass through them: ``presign_put`` returns a SigV4
presigned ``PutObject`` URL into ``staging/`` that signs ``Content-MD5`` and ``Content-Length``, so
the object store itself refuses bytes whose md5 or size is not the declared one and URLs that were
tampered with or expired (403). The store cannot know when an upload session ends: a URL replayed
after its session ended can only (re)write its staging object, which nothing serves and the
staging sweep deletes (docs/operate/deploy.md adds a lifecycle rule as a backstop).
The project lock is ``PutObject`` with ``If-None-Match: *`` (a 412 means someone else holds it).

Deletions also delete the emptied parents' ``dir/`` markers that file-system-backed stores keep
(``s3calls.delete_markers``).

How a server reaches the store (endpoint, credentials, settings) is ``s3connect``'s business.
"""

from __future__ import annotations

import dataclasses
import datetime
import os
import re
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from selenite.server.errors import BadStorageKey, RangeNotSatisfiable
from selenite.server.storage.base import (
    CHUNK,
    MAX_KEY_BYTES,
    ObjectInfo,
    ObjectStream,
    utf8,
    validate_key,
    validate_prefix,
)
from selenite.server.storage.ranges import ByteRange, window
from selenite.server.storage.s3calls import (
    BATCH,
    delete_all,
    delete_batch,
    delete_markers,
    get_bytes,
    get_object,
    head_object,
    http_status,
    is_absent,
    is_conflict,
    md5_of,
    pages,
    put_object,
    put_stream,
)

_CONTENT_RANGE = re.compile(r"bytes ([0-9]{1,19})-([0-9]{1,19})/([0-9]{1,19})")

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_s3.type_defs import GetObjectOutputTypeDef, HeadObjectOutputTypeDef


_LIST_FROM = 16  # head_staged_many lists the folder instead of a HEAD each from this many names
_PARALLEL = 8  # store requests at once for many files (put_many, stage_many, head_staged_many,
#   promote_many); the pool holds 32


class S3Storage:
    """A :class:`selenite.server.storage.base.Storage` in an S3-compatible bucket."""

    parallel_reads = 6  # objects a batched download opens ahead (one GET each: ``routes/extras._opened``)

    def __init__(self, client: S3Client, bucket: str, prefix: str = "", *, presign_client: S3Client | None = None,
                 endpoint: str | None = None) -> None:
        self.client = client
        self.presign_client = presign_client or client
        self.bucket = bucket
        self.prefix = prefix.strip("/")
        base = f"{self.prefix}/" if self.prefix else ""
        self._objects = base + "bucket/"
        self._staging = base + "staging/"
        self._state = base + "state/"
        self.endpoint = endpoint

    def describe(self) -> str:
        where = f"s3://{self.bucket}/{self.prefix}".rstrip("/")
        return f"{where} at {self.endpoint or 'AWS S3'}"

    # --- keys ----------------------------------------------------------------------------

    def _s3key(self, key: str, area: str | None = None, what: str = "key") -> str:
        validate_key(key, what)
        full = (area or self._objects) + key
        if len(utf8(full)) > MAX_KEY_BYTES:
            raise BadStorageKey(f"{what} {key!r} is too long for this bucket prefix")
        return full

    def _state_key(self, name: str) -> str:
        return self._s3key(name, self._state, "state name")

    def _staged_key(self, name: str) -> str:
        return self._s3key(name, self._staging, "staging name")

    def _key_of(self, s3key: str, area: str | None = None) -> str:
        return s3key[len(area or self._objects):]

    # --- writing -------------------------------------------------------------------------

    def put_bytes(self, key: str, data: bytes, *, content_type: str | None = None) -> None:
        put_object(self.client, self.bucket, self._s3key(key), data, content_type)

    def put_many(self, items: list[tuple[str, bytes]], *, content_type: str | None = None) -> None:
        with ThreadPoolExecutor(_PARALLEL, thread_name_prefix="s3-put") as pool:
            list(pool.map(lambda item: self.put_bytes(*item, content_type=content_type), items))

    def create_exclusive(self, key: str, data: bytes, *, content_type: str | None = None) -> bool:
        return put_object(self.client, self.bucket, self._s3key(key), data, content_type, exclusive=True)

    def put_stream(
        self, key: str, chunks: Iterable[bytes], *, md5_hex: str, content_type: str | None = None
    ) -> ObjectInfo:
        put_stream(self.client, self.bucket, self._s3key(key), key, chunks, md5_hex, content_type)
        info = self.head(key)
        if info is None:
            raise OSError(f"object {key!r} vanished right after it was written")
        return info

    # --- reading -------------------------------------------------------------------------

    def get_bytes(self, key: str) -> bytes | None:
        return get_bytes(self.client, self.bucket, self._s3key(key))

    def _info(self, key: str, resp: HeadObjectOutputTypeDef | GetObjectOutputTypeDef) -> ObjectInfo:
        modified = resp.get("LastModified") or datetime.datetime.now(datetime.UTC)
        if modified.tzinfo is None:
            modified = modified.replace(tzinfo=datetime.UTC)
        return ObjectInfo(
            key=key,
            size=int(resp.get("ContentLength", 0)),
            last_modified=modified.astimezone(datetime.UTC),
            md5=md5_of(resp.get("ETag"), resp.get("Metadata")),
            content_type=None,  # stores invent one ("binary/octet-stream"); let the app choose
            etag=resp.get("ETag"),
        )

    def head(self, key: str) -> ObjectInfo | None:
        return self._head(self._s3key(key), key)

    def _head(self, s3key: str, key: str) -> ObjectInfo | None:
        resp = head_object(self.client, self.bucket, s3key)
        return None if resp is None else self._info(key, resp)

    def open(self, key: str, byte_range: ByteRange | None = None) -> ObjectStream | None:
        s3key = self._s3key(key)
        try:
            resp = get_object(self.client, self.bucket, s3key, None if byte_range is None else byte_range.header())
        except ClientError as e:
            if byte_range is None or http_status(e) != 416:
                raise
            info = self._head(s3key, key)
            if info is None:
                return None
            raise RangeNotSatisfiable(key, info.size) from None
        if resp is None:
            return None
        body = resp["Body"]
        info = self._info(key, resp)
        span, cut = None, False
        if byte_range is not None:
            try:
                span, cut, info = self._placed(key, byte_range, resp, info)
            except BaseException:
                body.close()
                raise

        def chunks() -> Iterator[bytes]:
            # Flat memory: the StreamingBody is read one chunk at a time, never as a whole.
            try:
                if cut and span is not None:
                    yield from window(body.iter_chunks(CHUNK), span[0], span[1] - span[0] + 1)
                else:
                    yield from body.iter_chunks(CHUNK)
            finally:
                body.close()

        return ObjectStream(info=info, chunks=chunks(), span=span)

    @staticmethod
    def _placed(key: str, byte_range: ByteRange, resp: GetObjectOutputTypeDef, info: ObjectInfo
                ) -> tuple[tuple[int, int], bool, ObjectInfo]:
        """Where the store's answer to a ranged GetObject lies: ``(span, whether the span must still
        be cut out of the answer, info with the whole object's size)``. A store that ignored the
        range sent the whole object (cut here)."""
        got = _CONTENT_RANGE.fullmatch(resp.get("ContentRange") or "")
        if got is None:  # the whole object came back
            span = byte_range.span(info.size)
            if span is None:
                raise RangeNotSatisfiable(key, info.size)
            return span, True, info
        first, last, size = (int(g) for g in got.groups())
        return (first, last), False, dataclasses.replace(info, size=size)

    # --- deleting ------------------------------------------------------------------------

    def _delete_batch(self, s3keys: list[str]) -> set[str]:
        return delete_batch(self.client, self.bucket, s3keys)

    def _prune(self, keys: Iterable[str], area: str | None = None) -> None:
        delete_markers(self.client, self.bucket, area or self._objects, keys)

    def delete(self, key: str) -> int | None:
        info = self.head(key)
        if info is None:
            return None
        failed = self._delete_batch([self._s3key(key)])
        if failed:
            raise OSError(f"could not delete {key!r} from the bucket")
        self._prune([key])
        return info.size

    def delete_prefix(self, prefix: str) -> dict[str, int]:
        return self._delete_under(prefix, self._objects)

    def _delete_under(self, prefix: str, area: str) -> dict[str, int]:
        try:
            return delete_all(self.client, self.bucket, area, self._walk(prefix, area))
        except OSError as e:
            raise OSError(f"{e} under {prefix!r}") from None

    # --- listing -------------------------------------------------------------------------

    def list_dir(self, prefix: str = "") -> list[str]:
        head, partial = validate_prefix(prefix)
        prefixes: list[str] = []
        keys: list[str] = []
        for page in pages(self.client, self.bucket, self._objects + head + partial, delimiter=True):
            prefixes.extend(self._key_of(p["Prefix"]) for p in page.get("CommonPrefixes", []))
            # A key ending in '/' is a clone's directory marker, never one of ours.
            keys.extend(self._key_of(o["Key"]) for o in page.get("Contents", []) if not o["Key"].endswith("/"))
        return sorted(prefixes, key=utf8) + sorted(keys, key=utf8)

    def list_recursive(self, prefix: str = "") -> Iterator[tuple[str, int]]:
        return self._walk(prefix, self._objects)

    def _walk(self, prefix: str, area: str) -> Iterator[tuple[str, int]]:
        head, partial = validate_prefix(prefix)
        found = [
            (self._key_of(o["Key"], area), int(o.get("Size", 0)))
            for page in pages(self.client, self.bucket, area + head + partial, delimiter=False)
            for o in page.get("Contents", [])
            if not o["Key"].endswith("/")
        ]
        found.sort(key=lambda ks: utf8(ks[0]))
        return iter(found)

    # --- uploads -------------------------------------------------------------------------

    def presign_put(self, name: str, md5_b64: str, size: int, expires: int, *, key: str) -> str | None:
        # The URL's signature covers Content-MD5 and Content-Length: the store refuses other bytes
        # (BadDigest) and other sizes (a signature mismatch). It writes into staging only; complete
        # re-checks size and md5 before it copies the object into the version.
        self._s3key(key)
        params: dict[str, Any] = {"Bucket": self.bucket, "Key": self._staged_key(name), "ContentMD5": md5_b64}
        if size:  # requests sends an empty file chunked (no Content-Length); its md5 binds it anyway
            params["ContentLength"] = size
        url: str = self.presign_client.generate_presigned_url(
            "put_object",
            Params=params,
            ExpiresIn=int(expires),
            HttpMethod="PUT",
        )
        return url

    def spool_dir(self) -> str | None:
        return None

    def stage_file(self, name: str, path: str, *, md5_hex: str) -> ObjectInfo:
        try:
            with open(path, "rb") as f:
                chunks = iter(lambda: f.read(CHUNK), b"")
                put_stream(self.client, self.bucket, self._staged_key(name), name, chunks, md5_hex)
        finally:
            os.unlink(path)
        info = self.head_staged(name)
        if info is None:
            raise OSError(f"staged object {name!r} vanished right after it was written")
        return info

    def stage_many(self, items: list[tuple[str, bytes, str]]) -> None:
        # One PutObject per file, _PARALLEL at once: one after another, a batch of small files
        # costs a store round trip each (the first failure is raised once all have ended).
        def put(item: tuple[str, bytes, str]) -> None:
            name, data, md5_hex = item
            put_stream(self.client, self.bucket, self._staged_key(name), name, [data], md5_hex)

        with ThreadPoolExecutor(_PARALLEL, thread_name_prefix="s3-batch") as pool:
            list(pool.map(put, items))

    def head_staged(self, name: str) -> ObjectInfo | None:
        return self._head(self._staged_key(name), name)

    def list_staged(self, prefix: str = "") -> Iterator[tuple[str, int]]:
        return self._walk(prefix, self._staging)

    def delete_staged(self, prefix: str) -> dict[str, int]:
        return self._delete_under(prefix, self._staging)

    def head_staged_many(self, names: list[str]) -> list[ObjectInfo | None]:
        # A LIST per 1,000 objects tells size and ETag (a single-part PUT's md5, as ``md5_of`` reads
        # a HEAD): a HEAD each only for the others (multipart), 8 at a time.
        keys = [self._staged_key(n) for n in names]
        listed: dict[str, ObjectInfo] = {}
        if len(keys) >= _LIST_FROM:
            wanted = dict(zip(keys, names, strict=True))
            top = os.path.commonprefix(keys).rpartition("/")[0] + "/"  # noqa: RUF071 -- a string prefix, as LIST takes
            for page in pages(self.client, self.bucket, top, delimiter=False):
                for o in page.get("Contents", []):
                    name, md5 = wanted.get(o["Key"]), md5_of(o.get("ETag"), None)
                    if name is not None and md5 is not None:
                        modified = o["LastModified"].replace(tzinfo=o["LastModified"].tzinfo or datetime.UTC)
                        listed[o["Key"]] = ObjectInfo(key=name, size=int(o.get("Size", 0)), md5=md5, etag=o.get("ETag"),
                                                      last_modified=modified.astimezone(datetime.UTC))
        rest = [n for n, k in zip(names, keys, strict=True) if k not in listed]
        with ThreadPoolExecutor(_PARALLEL, thread_name_prefix="s3-head") as pool:
            headed = dict(zip(rest, pool.map(self.head_staged, rest), strict=True))
        return [listed[k] if k in listed else headed[n] for n, k in zip(names, keys, strict=True)]

    def promote_many(self, pairs: list[tuple[str, str]], seen: list[ObjectInfo] | None = None) -> list[str]:
        # Copied 8 at a time; the staged copies then deleted 1,000 to a request (promote's delete,
        # marker prune and head per file were most of the time of completing many small files).
        # With ``seen``, no HEAD before each copy (a third of the requests of completing them).
        infos: list[ObjectInfo | None] = list(seen) if seen is not None else [None] * len(pairs)
        with ThreadPoolExecutor(_PARALLEL, thread_name_prefix="s3-promote") as pool:
            jobs = list(zip(pairs, infos, strict=True))  # a ``seen`` of another length: refused before any copy
            copied = list(pool.map(lambda job: self._copy_staged(job[0][0], job[0][1], job[1]), jobs))
        moved = [name for (name, _), ok in zip(pairs, copied, strict=True) if ok]
        for i in range(0, len(moved), BATCH):
            self._delete_batch([self._staged_key(n) for n in moved[i : i + BATCH]])
        self._prune(moved, self._staging)
        return [name for (name, _), ok in zip(pairs, copied, strict=True) if not ok]

    def promote(self, name: str, key: str) -> ObjectInfo | None:
        if not self._copy_staged(name, key):
            return None
        self._delete_batch([self._staged_key(name)])
        self._prune([name], self._staging)
        return self.head(key)

    def _copy_staged(self, name: str, key: str, seen: ObjectInfo | None = None) -> bool:
        """Copy the staged object ``name`` to the bucket as ``key`` (``seen``: the object as the
        caller saw it, else it is asked for); False when it is absent or changed meanwhile."""
        src, dest = self._staged_key(name), self._s3key(key)
        if seen is not None and seen.etag:
            etag, md5 = seen.etag, seen.md5
        else:
            resp = head_object(self.client, self.bucket, src)
            if resp is None:
                return False
            etag, md5 = resp["ETag"], md5_of(resp.get("ETag"), resp.get("Metadata"))
        # A presigned PUT is one PutObject (at most 5 GB), so one CopyObject suffices. IfMatch:
        # exactly the object complete checked (a replay can only write the same bytes anyway).
        try:
            self.client.copy_object(
                Bucket=self.bucket, Key=dest, CopySource={"Bucket": self.bucket, "Key": src},
                CopySourceIfMatch=etag, MetadataDirective="REPLACE", Metadata={"md5": md5} if md5 else {},
            )
        except ClientError as e:
            if is_absent(e) or is_conflict(e):
                return False
            raise
        return True

    # --- private state -------------------------------------------------------------------

    def state_get(self, name: str) -> bytes | None:
        return get_bytes(self.client, self.bucket, self._state_key(name))

    def state_put(self, name: str, data: bytes) -> None:
        put_object(self.client, self.bucket, self._state_key(name), data)

    def state_create_exclusive(self, name: str, data: bytes) -> bool:
        return put_object(self.client, self.bucket, self._state_key(name), data, exclusive=True)

    def state_delete(self, name: str) -> None:
        self._delete_batch([self._state_key(name)])

    def state_list(self, folder: str) -> list[str]:
        start = self._state_key(folder) + "/"
        listed = pages(self.client, self.bucket, start, delimiter=True)
        names = (o["Key"][len(self._state):] for page in listed for o in page.get("Contents", []))
        return sorted(n for n in names if not n.endswith("/"))

