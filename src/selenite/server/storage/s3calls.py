"""The S3 API calls the S3 backend makes, as plain functions of a client and a bucket: how a store's
errors read, absent keys as None, exclusive and streamed (multipart) writes, batched deletes with
their directory markers, paged listings. ``s3.py`` maps the Storage contract's areas onto them."""

from __future__ import annotations

import base64
import contextlib
import hashlib
import re
from collections.abc import Iterable, Iterator, Mapping
from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError

from selenite.server.errors import DigestMismatch

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_s3.type_defs import (
        CompletedPartTypeDef,
        GetObjectOutputTypeDef,
        HeadObjectOutputTypeDef,
        ListObjectsV2OutputTypeDef,
        PaginatorConfigTypeDef,
    )

PART = 8 << 20  # put_stream: one PutObject up to this size, multipart beyond (min part is 5 MiB)
BATCH = 1000  # DeleteObjects accepts at most 1000 keys per request
PAGE = 1000  # ListObjectsV2 page size (the S3 maximum)
_MD5_ETAG = re.compile(r'^"?([0-9a-fA-F]{32})"?$')
_MD5 = re.compile(r"[0-9a-fA-F]{32}")
_ABSENT = {"404", "NoSuchKey", "NotFound"}
_CONFLICT = {"412", "PreconditionFailed", "409", "ConditionalRequestConflict"}


def b64md5(data: bytes) -> str:
    """A ``Content-MD5`` header value: the store then checks the bytes it received."""
    return base64.b64encode(hashlib.md5(data).digest()).decode()


def error_code(e: ClientError) -> str:
    return str(e.response.get("Error", {}).get("Code", ""))


def http_status(e: ClientError) -> int:
    return int(e.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0) or 0)


def is_absent(e: ClientError) -> bool:
    """The object (or key) is not there."""
    return error_code(e) in _ABSENT or http_status(e) == 404


def is_conflict(e: ClientError) -> bool:
    """A condition failed. 412: the key exists (or changed); 409: a concurrent conditional write to
    it is in flight (AWS). Either way this caller's write did not happen."""
    return error_code(e) in _CONFLICT or http_status(e) in (409, 412)


def md5_of(etag: str | None, metadata: Mapping[str, str] | None) -> str | None:
    """A single-part PUT's ETag is the md5; multipart objects carry it in our metadata."""
    m = _MD5_ETAG.match(etag or "")
    if m:
        return m.group(1).lower()
    md5 = (metadata or {}).get("md5", "")
    return md5.lower() if _MD5.fullmatch(md5) else None


def parents(key: str) -> list[str]:
    """``a/b/c`` -> ``["a/b/", "a/"]``: the 'directories' above a key, deepest first."""
    parts = key.split("/")[:-1]
    return ["/".join(parts[:i]) + "/" for i in range(len(parts), 0, -1)]


def put_object(
    client: S3Client, bucket: str, s3key: str, data: bytes, content_type: str | None = None, exclusive: bool = False
) -> bool:
    """One PutObject with ``Content-MD5``; False when ``exclusive`` and the key exists already."""
    args: dict[str, Any] = {"Bucket": bucket, "Key": s3key, "Body": data, "ContentMD5": b64md5(data)}
    if content_type:
        args["ContentType"] = content_type
    if exclusive:
        args["IfNoneMatch"] = "*"
    try:
        client.put_object(**args)
    except ClientError as e:
        if exclusive and is_conflict(e):  # someone else created it (or is creating it)
            return False
        raise
    return True


def get_object(client: S3Client, bucket: str, s3key: str, byte_range: str | None = None
               ) -> GetObjectOutputTypeDef | None:
    """GetObject (of ``byte_range``, a ``Range`` header value, when given), or None when the key is
    absent. Close the answer's ``Body``."""
    try:
        if byte_range is not None:
            return client.get_object(Bucket=bucket, Key=s3key, Range=byte_range)
        return client.get_object(Bucket=bucket, Key=s3key)
    except ClientError as e:
        if is_absent(e):
            return None
        raise


def get_bytes(client: S3Client, bucket: str, s3key: str) -> bytes | None:
    """A whole (small) object, or None when absent."""
    resp = get_object(client, bucket, s3key)
    if resp is None:
        return None
    body = resp["Body"]
    try:
        data: bytes = body.read()
    finally:
        body.close()
    return data


def head_object(client: S3Client, bucket: str, s3key: str) -> HeadObjectOutputTypeDef | None:
    """HeadObject, or None when the key is absent."""
    try:
        return client.head_object(Bucket=bucket, Key=s3key)
    except ClientError as e:
        if is_absent(e):
            return None
        raise


def put_stream(
    client: S3Client, bucket: str, s3key: str, key: str, chunks: Iterable[bytes], md5_hex: str,
    content_type: str | None = None,
) -> None:
    """Store ``chunks`` at ``s3key`` in flat memory (one PutObject, or parts of :data:`PART` bytes),
    hashing as they pass; raises :class:`DigestMismatch` and stores nothing when the md5 is not
    ``md5_hex`` (``key`` names the object in that error)."""
    expected = md5_hex.lower()
    h = hashlib.md5()
    buf = bytearray()
    upload_id: str | None = None
    parts: list[CompletedPartTypeDef] = []
    extra: dict[str, Any] = {"ContentType": content_type} if content_type else {}

    def ship(part: bytes, upload: str) -> None:
        number = len(parts) + 1
        etag = client.upload_part(
            Bucket=bucket, Key=s3key, UploadId=upload, PartNumber=number, Body=part, ContentMD5=b64md5(part)
        )["ETag"]
        parts.append({"PartNumber": number, "ETag": etag})

    try:
        for chunk in chunks:
            h.update(chunk)
            buf += chunk
            while len(buf) >= PART:  # bounded memory: ship a part as soon as one is full
                if upload_id is None:
                    upload_id = client.create_multipart_upload(
                        Bucket=bucket, Key=s3key, Metadata={"md5": expected}, **extra
                    )["UploadId"]
                ship(bytes(buf[:PART]), upload_id)
                del buf[:PART]
        actual = h.hexdigest()
        if actual != expected:
            raise DigestMismatch(key, expected, actual)
        if upload_id is None:
            # ContentMD5 makes the store check the bytes too (they could change in transit).
            client.put_object(Bucket=bucket, Key=s3key, Body=bytes(buf), ContentMD5=b64md5(bytes(buf)), **extra)
            return
        if buf or not parts:
            ship(bytes(buf), upload_id)
        client.complete_multipart_upload(Bucket=bucket, Key=s3key, UploadId=upload_id, MultipartUpload={"Parts": parts})
        upload_id = None
    finally:
        if upload_id is not None:  # mismatch, error or interruption: store nothing
            # The bucket's lifecycle rule for incomplete uploads cleans up what this cannot.
            with contextlib.suppress(ClientError, BotoCoreError):
                client.abort_multipart_upload(Bucket=bucket, Key=s3key, UploadId=upload_id)


def delete_batch(client: S3Client, bucket: str, s3keys: list[str]) -> set[str]:
    """DeleteObjects (<= :data:`BATCH` keys, in order); the keys that could NOT be deleted."""
    if not s3keys:
        return set()
    resp = client.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": k} for k in s3keys], "Quiet": True})
    return {str(err.get("Key")) for err in resp.get("Errors", []) if err.get("Code") not in _ABSENT}


def delete_all(client: S3Client, bucket: str, area: str, items: Iterable[tuple[str, int]]) -> dict[str, int]:
    """Delete ``area`` + key for every ``(key, size)``, :data:`BATCH` at a time, then their emptied
    directory markers; ``{key: size}`` deleted. Raises OSError after the rest when some could not be."""
    freed: dict[str, int] = {}
    failed: set[str] = set()
    batch: list[tuple[str, int]] = []

    def flush() -> None:
        bad = delete_batch(client, bucket, [area + k for k, _ in batch])
        failed.update(bad)
        freed.update((k, size) for k, size in batch if area + k not in bad)
        batch.clear()

    for key, size in items:
        batch.append((key, size))
        if len(batch) == BATCH:
            flush()
    flush()
    delete_markers(client, bucket, area, freed)
    if failed:
        raise OSError(f"could not delete {len(failed)} object(s)")
    return freed


def delete_markers(client: S3Client, bucket: str, area: str, keys: Iterable[str]) -> None:
    """Delete the 'directory' markers above deleted keys (``area`` + key), deepest first. Object
    stores that are really file systems (SeaweedFS) keep a "directory" after its last object is
    deleted and list it as a common prefix; on real S3 this deletes nothing, and on SeaweedFS a
    non-empty directory is left alone. Cosmetic only: a failure leaves an empty prefix listed."""
    by_depth: dict[int, set[str]] = {}
    for key in keys:
        for d in parents(key):
            by_depth.setdefault(d.count("/"), set()).add(area + d)
    ordered = [d for depth in sorted(by_depth, reverse=True) for d in sorted(by_depth[depth])]
    for i in range(0, len(ordered), BATCH):
        try:
            delete_batch(client, bucket, ordered[i:i + BATCH])
        except (ClientError, BotoCoreError):
            return


def pages(client: S3Client, bucket: str, s3prefix: str, delimiter: bool) -> Iterator[ListObjectsV2OutputTypeDef]:
    """ListObjectsV2 pages under ``s3prefix`` (with ``Delimiter='/'`` when ``delimiter``)."""
    paginator = client.get_paginator("list_objects_v2")
    config: PaginatorConfigTypeDef = {"PageSize": PAGE}
    if delimiter:
        yield from paginator.paginate(Bucket=bucket, Prefix=s3prefix, Delimiter="/", PaginationConfig=config)
    else:
        yield from paginator.paginate(Bucket=bucket, Prefix=s3prefix, PaginationConfig=config)
