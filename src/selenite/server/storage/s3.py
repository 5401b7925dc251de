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

Object stores that are really file systems (SeaweedFS) keep a "directory" after its last object is
deleted and list it as a common prefix; deletions therefore also delete the emptied parents'
``dir/`` markers (a no-op on real S3, and on SeaweedFS a non-empty directory is left alone).

How a server reaches the store (endpoint, credentials, settings) is ``s3connect``'s business.
"""

from __future__ import annotations

import base64
import datetime
import hashlib
import os
import re
from collections.abc import Iterable, Iterator
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from selenite.server.errors import BadStorageKey, DigestMismatch
from selenite.server.storage.base import (
    CHUNK,
    MAX_KEY_BYTES,
    ObjectInfo,
    ObjectStream,
    utf8,
    validate_key,
    validate_prefix,
)

__all__ = ["S3Storage"]

_PART = 8 << 20  # put_stream: one PutObject up to this size, multipart beyond (min part is 5 MiB)
_BATCH = 1000  # DeleteObjects accepts at most 1000 keys per request
_PAGE = 1000  # ListObjectsV2 page size (the S3 maximum)
_MD5_ETAG = re.compile(r'^"?([0-9a-fA-F]{32})"?$')
_ABSENT = {"404", "NoSuchKey", "NotFound"}
_CONFLICT = {"412", "PreconditionFailed", "409", "ConditionalRequestConflict"}


def _b64md5(data: bytes) -> str:
    return base64.b64encode(hashlib.md5(data).digest()).decode()


def _code(e: ClientError) -> str:
    return str(e.response.get("Error", {}).get("Code", ""))


def _status(e: ClientError) -> int:
    return int(e.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0) or 0)


def _absent(e: ClientError) -> bool:
    return _code(e) in _ABSENT or _status(e) == 404


def _md5_of(etag: str | None, metadata: dict[str, str] | None) -> str | None:
    """A single-part PUT's ETag is the md5; multipart objects carry it in our metadata."""
    m = _MD5_ETAG.match(etag or "")
    if m:
        return m.group(1).lower()
    md5 = (metadata or {}).get("md5", "")
    return md5.lower() if re.fullmatch(r"[0-9a-fA-F]{32}", md5) else None


def _parents(key: str) -> list[str]:
    """``a/b/c`` -> ``["a/b/", "a/"]``: the 'directories' above a key, deepest first."""
    parts = key.split("/")[:-1]
    return ["/".join(parts[:i]) + "/" for i in range(len(parts), 0, -1)]


class S3Storage:
    """A :class:`selenite.server.storage.base.Storage` in an S3-compatible bucket."""

    def __init__(self, client: Any, bucket: str, prefix: str = "", *, presign_client: Any = None,
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

    def _put(self, s3key: str, data: bytes, content_type: str | None = None, exclusive: bool = False) -> bool:
        args: dict[str, Any] = {"Bucket": self.bucket, "Key": s3key, "Body": data, "ContentMD5": _b64md5(data)}
        if content_type:
            args["ContentType"] = content_type
        if exclusive:
            args["IfNoneMatch"] = "*"
        try:
            self.client.put_object(**args)
        except ClientError as e:
            # 412: the key exists. 409: a concurrent conditional write to it is in flight (AWS);
            # either way this caller did not create it.
            if exclusive and (_code(e) in _CONFLICT or _status(e) in (409, 412)):
                return False
            raise
        return True

    def put_bytes(self, key: str, data: bytes, *, content_type: str | None = None) -> None:
        self._put(self._s3key(key), data, content_type)

    def create_exclusive(self, key: str, data: bytes, *, content_type: str | None = None) -> bool:
        return self._put(self._s3key(key), data, content_type, exclusive=True)

    def put_stream(
        self, key: str, chunks: Iterable[bytes], *, md5_hex: str, content_type: str | None = None
    ) -> ObjectInfo:
        self._put_stream(self._s3key(key), key, chunks, md5_hex, content_type)
        info = self.head(key)
        if info is None:
            raise OSError(f"object {key!r} vanished right after it was written")
        return info

    def _put_stream(
        self, s3key: str, key: str, chunks: Iterable[bytes], md5_hex: str, content_type: str | None = None
    ) -> None:
        expected = md5_hex.lower()
        h = hashlib.md5()
        buf = bytearray()
        it = iter(chunks)
        upload_id: str | None = None
        parts: list[dict[str, Any]] = []
        extra: dict[str, Any] = {"ContentType": content_type} if content_type else {}
        try:
            for chunk in it:
                h.update(chunk)
                buf += chunk
                while len(buf) >= _PART:  # bounded memory: ship a part as soon as one is full
                    if upload_id is None:
                        upload_id = self.client.create_multipart_upload(
                            Bucket=self.bucket, Key=s3key, Metadata={"md5": expected}, **extra
                        )["UploadId"]
                    part = bytes(buf[:_PART])
                    del buf[:_PART]
                    etag = self.client.upload_part(
                        Bucket=self.bucket, Key=s3key, UploadId=upload_id, PartNumber=len(parts) + 1,
                        Body=part, ContentMD5=_b64md5(part),
                    )["ETag"]
                    parts.append({"PartNumber": len(parts) + 1, "ETag": etag})
            actual = h.hexdigest()
            if actual != expected:
                raise DigestMismatch(key, expected, actual)
            if upload_id is None:
                # ContentMD5 makes the store check the bytes too (they could change in transit).
                self.client.put_object(Bucket=self.bucket, Key=s3key, Body=bytes(buf), ContentMD5=_b64md5(bytes(buf)), **extra)
            else:
                if buf or not parts:
                    part = bytes(buf)
                    etag = self.client.upload_part(
                        Bucket=self.bucket, Key=s3key, UploadId=upload_id, PartNumber=len(parts) + 1,
                        Body=part, ContentMD5=_b64md5(part),
                    )["ETag"]
                    parts.append({"PartNumber": len(parts) + 1, "ETag": etag})
                self.client.complete_multipart_upload(
                    Bucket=self.bucket, Key=s3key, UploadId=upload_id, MultipartUpload={"Parts": parts}
                )
                upload_id = None
        finally:
            if upload_id is not None:  # mismatch, error or interruption: store nothing
                try:
                    self.client.abort_multipart_upload(Bucket=self.bucket, Key=s3key, UploadId=upload_id)
                except (ClientError, BotoCoreError):
                    pass  # the bucket's lifecycle rule for incomplete uploads cleans up the rest

    # --- reading -------------------------------------------------------------------------

    def get_bytes(self, key: str) -> bytes | None:
        return self._get(self._s3key(key))

    def _get(self, s3key: str) -> bytes | None:
        try:
            resp = self.client.get_object(Bucket=self.bucket, Key=s3key)
        except ClientError as e:
            if _absent(e):
                return None
            raise
        body = resp["Body"]
        try:
            data: bytes = body.read()
        finally:
            body.close()
        return data

    def _info(self, key: str, resp: dict[str, Any]) -> ObjectInfo:
        modified = resp.get("LastModified") or datetime.datetime.now(datetime.UTC)
        if modified.tzinfo is None:
            modified = modified.replace(tzinfo=datetime.UTC)
        return ObjectInfo(
            key=key,
            size=int(resp.get("ContentLength", 0)),
            last_modified=modified.astimezone(datetime.UTC),
            md5=_md5_of(resp.get("ETag"), resp.get("Metadata")),
            content_type=None,  # stores invent one ("binary/octet-stream"); let the app choose
        )

    def head(self, key: str) -> ObjectInfo | None:
        return self._head(self._s3key(key), key)

    def _head(self, s3key: str, key: str) -> ObjectInfo | None:
        resp = self._head_object(s3key)
        return None if resp is None else self._info(key, resp)

    def _head_object(self, s3key: str) -> dict[str, Any] | None:
        try:
            resp: dict[str, Any] = self.client.head_object(Bucket=self.bucket, Key=s3key)
        except ClientError as e:
            if _absent(e):
                return None
            raise
        return resp

    def open(self, key: str) -> ObjectStream | None:
        s3key = self._s3key(key)
        try:
            resp = self.client.get_object(Bucket=self.bucket, Key=s3key)
        except ClientError as e:
            if _absent(e):
                return None
            raise
        body = resp["Body"]

        def chunks() -> Iterator[bytes]:
            # Flat memory: the StreamingBody is read one chunk at a time, never as a whole.
            try:
                yield from body.iter_chunks(CHUNK)
            finally:
                body.close()

        return ObjectStream(info=self._info(key, resp), chunks=chunks())

    # --- deleting ------------------------------------------------------------------------

    def _delete_batch(self, s3keys: list[str]) -> set[str]:
        """DeleteObjects (<= 1000 keys, in order); the keys that could NOT be deleted."""
        if not s3keys:
            return set()
        resp = self.client.delete_objects(
            Bucket=self.bucket, Delete={"Objects": [{"Key": k} for k in s3keys], "Quiet": True}
        )
        return {str(err.get("Key")) for err in resp.get("Errors", []) if err.get("Code") not in _ABSENT}

    def _prune(self, keys: Iterable[str], area: str | None = None) -> None:
        """Delete the 'directory' markers above deleted keys, deepest first (see module docstring)."""
        by_depth: dict[int, set[str]] = {}
        for key in keys:
            for d in _parents(key):
                by_depth.setdefault(d.count("/"), set()).add((area or self._objects) + d)
        ordered = [d for depth in sorted(by_depth, reverse=True) for d in sorted(by_depth[depth])]
        for i in range(0, len(ordered), _BATCH):
            try:
                self._delete_batch(ordered[i:i + _BATCH])
            except (ClientError, BotoCoreError):
                return  # cosmetic only: an empty prefix left listed, never data lost

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
        freed: dict[str, int] = {}
        failed: set[str] = set()
        batch: list[tuple[str, int]] = []

        def flush() -> None:
            bad = self._delete_batch([area + k for k, _ in batch])
            failed.update(bad)
            freed.update((k, size) for k, size in batch if area + k not in bad)
            batch.clear()

        for key, size in self._walk(prefix, area):
            batch.append((key, size))
            if len(batch) == _BATCH:
                flush()
        flush()
        self._prune(freed, area)
        if failed:
            raise OSError(f"could not delete {len(failed)} object(s) under {prefix!r}")
        return freed

    # --- listing -------------------------------------------------------------------------

    def _pages(self, s3prefix: str, delimiter: bool) -> Iterator[dict[str, Any]]:
        args: dict[str, Any] = {"Bucket": self.bucket, "Prefix": s3prefix}
        if delimiter:
            args["Delimiter"] = "/"
        pages = self.client.get_paginator("list_objects_v2").paginate(**args, PaginationConfig={"PageSize": _PAGE})
        yield from pages

    def list_dir(self, prefix: str = "") -> list[str]:
        head, partial = validate_prefix(prefix)
        prefixes: list[str] = []
        keys: list[str] = []
        for page in self._pages(self._objects + head + partial, delimiter=True):
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
            for page in self._pages(area + head + partial, delimiter=False)
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
                self._put_stream(self._staged_key(name), name, iter(lambda: f.read(CHUNK), b""), md5_hex)
        finally:
            os.unlink(path)
        info = self.head_staged(name)
        if info is None:
            raise OSError(f"staged object {name!r} vanished right after it was written")
        return info

    def head_staged(self, name: str) -> ObjectInfo | None:
        return self._head(self._staged_key(name), name)

    def list_staged(self, prefix: str = "") -> Iterator[tuple[str, int]]:
        return self._walk(prefix, self._staging)

    def delete_staged(self, prefix: str) -> dict[str, int]:
        return self._delete_under(prefix, self._staging)

    def promote(self, name: str, key: str) -> ObjectInfo | None:
        src, dest = self._staged_key(name), self._s3key(key)
        resp = self._head_object(src)
        if resp is None:
            return None
        md5 = _md5_of(resp.get("ETag"), resp.get("Metadata"))
        # A presigned PUT is one PutObject (at most 5 GB), so one CopyObject suffices. IfMatch:
        # exactly the object complete just checked (a replay can only write the same bytes anyway).
        try:
            self.client.copy_object(
                Bucket=self.bucket, Key=dest, CopySource={"Bucket": self.bucket, "Key": src},
                CopySourceIfMatch=resp["ETag"], MetadataDirective="REPLACE", Metadata={"md5": md5} if md5 else {},
            )
        except ClientError as e:
            if _absent(e) or _code(e) in _CONFLICT or _status(e) == 412:
                return None
            raise
        self._delete_batch([src])
        self._prune([name], self._staging)
        return self.head(key)

    # --- private state -------------------------------------------------------------------

    def state_get(self, name: str) -> bytes | None:
        return self._get(self._state_key(name))

    def state_put(self, name: str, data: bytes) -> None:
        self._put(self._state_key(name), data)

    def state_create_exclusive(self, name: str, data: bytes) -> bool:
        return self._put(self._state_key(name), data, exclusive=True)

    def state_delete(self, name: str) -> None:
        self._delete_batch([self._state_key(name)])

    def state_list(self, folder: str) -> list[str]:
        start = self._state_key(folder) + "/"
        names = (o["Key"][len(self._state):] for page in self._pages(start, delimiter=True) for o in page.get("Contents", []))
        return sorted(n for n in names if not n.endswith("/"))
