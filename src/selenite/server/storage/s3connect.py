"""Opening the S3 backend from ``selenite serve`` options: the store's address, credentials, settings.

Settings, beyond ``--s3-endpoint`` / ``--s3-region`` and the standard AWS credential chain:

* ``SELENITE_S3_CHECKSUMS`` (default ``when_required``): boto3's ``request_checksum_calculation``
  and ``response_checksum_validation``. boto3 >= 1.36 otherwise adds CRC32 checksums that several
  S3 clones reject; we send ``Content-MD5`` ourselves wherever integrity matters.
* ``SELENITE_S3_ADDRESSING`` (``path`` | ``virtual`` | ``auto``): default ``path`` when an endpoint
  is given (what S3 clones expect), ``auto`` for AWS.
* ``SELENITE_S3_PUBLIC_ENDPOINT``: the endpoint presigned URLs point to, when clients reach the
  object store under another address than the servers do (the URL's signature covers the host).
"""

from __future__ import annotations

import os
import re
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError

from selenite.server.errors import BadStorageKey, SetupError
from selenite.server.storage.base import validate_key
from selenite.server.storage.s3 import S3Storage, _code, _status

__all__ = ["client_config", "make_client", "open_s3_storage", "parse_url"]

_BUCKET_NAME = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
_CHECKSUM_MODES = ("when_required", "when_supported")


def client_config(endpoint: str | None) -> Config:
    """The botocore settings S3 clones need (see the module docstring)."""
    checksums = os.environ.get("SELENITE_S3_CHECKSUMS", "when_required").strip() or "when_required"
    if checksums not in _CHECKSUM_MODES:
        raise SetupError(f"SELENITE_S3_CHECKSUMS must be one of {', '.join(_CHECKSUM_MODES)}, not {checksums!r}")
    addressing = os.environ.get("SELENITE_S3_ADDRESSING", "").strip() or ("path" if endpoint else "auto")
    if addressing not in ("path", "virtual", "auto"):
        raise SetupError(f"SELENITE_S3_ADDRESSING must be path, virtual or auto, not {addressing!r}")
    return Config(
        signature_version="s3v4",
        s3={"addressing_style": addressing},
        request_checksum_calculation=checksums,
        response_checksum_validation=checksums,
        max_pool_connections=32,  # the app serves requests from a thread pool
        retries={"mode": "standard", "max_attempts": 4},
    )


def make_client(endpoint: str | None, region: str | None) -> Any:
    """A boto3 S3 client; credentials come from the standard AWS chain (env, config, role)."""
    session = boto3.session.Session()
    region = region or session.region_name or "us-east-1"
    return session.client("s3", endpoint_url=endpoint or None, region_name=region, config=client_config(endpoint))


def parse_url(url: str) -> tuple[str, str]:
    """``s3://BUCKET[/PREFIX]`` -> (bucket, prefix without surrounding '/')."""
    rest = url[len("s3://"):] if url.startswith("s3://") else url
    bucket, _, prefix = rest.partition("/")
    prefix = prefix.strip("/")
    if not _BUCKET_NAME.match(bucket):
        raise SetupError(f"--storage {url!r}: {bucket!r} is not a valid S3 bucket name")
    if prefix:
        try:
            validate_key(prefix, "prefix")
        except BadStorageKey as e:
            raise SetupError(f"--storage {url!r}: {e}") from None
    return bucket, prefix


def open_s3_storage(url: str, endpoint: str | None = None, region: str | None = None) -> S3Storage:
    """The backend for ``--storage s3://BUCKET[/PREFIX]``; checks the bucket answers, or one line."""
    bucket, prefix = parse_url(url)
    client = make_client(endpoint, region)
    public = os.environ.get("SELENITE_S3_PUBLIC_ENDPOINT", "").strip()
    presign_client = make_client(public, region) if public else client
    try:
        client.head_bucket(Bucket=bucket)
    except NoCredentialsError:
        raise SetupError("no AWS credentials found (set AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY or a profile)") from None
    except ClientError as e:
        status = _status(e)
        why = {404: "does not exist", 403: "is not accessible with these credentials"}.get(status, f"answered {_code(e) or status}")
        raise SetupError(f"S3 bucket {bucket!r} {why}") from None
    except BotoCoreError as e:
        raise SetupError(f"cannot reach S3{f' at {endpoint}' if endpoint else ''}: {e}") from None
    return S3Storage(client, bucket, prefix, presign_client=presign_client, endpoint=endpoint)
