"""The S3 backend's pure helpers (server/storage/s3calls.py): no store needed."""

from __future__ import annotations

import base64
import hashlib

from botocore.exceptions import ClientError

from selenite.server.storage.s3calls import b64md5, is_absent, is_conflict, md5_of, parents


def _error(code: str, status: int) -> ClientError:
    return ClientError({"Error": {"Code": code}, "ResponseMetadata": {"HTTPStatusCode": status}}, "HeadObject")


def test_md5_comes_from_a_single_part_etag_or_our_metadata() -> None:
    md5 = hashlib.md5(b"x").hexdigest()
    assert md5_of(f'"{md5.upper()}"', None) == md5
    assert md5_of('"abc-2"', {"md5": md5}) == md5  # multipart: the ETag is not an md5
    assert md5_of('"abc-2"', {"md5": "not an md5"}) is None
    assert md5_of(None, None) is None
    assert b64md5(b"x") == base64.b64encode(hashlib.md5(b"x").digest()).decode()


def test_errors_read_by_code_or_status() -> None:
    assert is_absent(_error("NoSuchKey", 404)) and is_absent(_error("", 404)) and not is_absent(_error("Boom", 500))
    assert is_conflict(_error("PreconditionFailed", 412)) and is_conflict(_error("", 409))
    assert not is_conflict(_error("AccessDenied", 403))


def test_parents_are_listed_deepest_first() -> None:
    assert parents("a/b/c") == ["a/b/", "a/"]
    assert parents("top") == []
