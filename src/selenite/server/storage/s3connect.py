"""Opening the S3 backend from ``selenite serve`` options: the store's address, credentials, settings.

Settings (:class:`~selenite.server.storage.s3settings.S3Settings`) come from the command line; the
credentials from the standard AWS chain (environment, config files, instance role).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError

from selenite.server.errors import BadStorageKey, SetupError
from selenite.server.storage.base import validate_key
from selenite.server.storage.s3 import S3Storage
from selenite.server.storage.s3calls import error_code, http_status
from selenite.server.storage.s3settings import S3Settings

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

_BUCKET_NAME = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")


def client_config(settings: S3Settings) -> Config:
    """The botocore settings S3 clones need (see S3Settings)."""
    checksums = settings.checksum_mode()
    return Config(
        signature_version="s3v4",
        s3={"addressing_style": settings.addressing_style()},
        request_checksum_calculation=checksums,
        response_checksum_validation=checksums,
        max_pool_connections=32,  # the app serves requests from a thread pool
        retries={"mode": "standard", "max_attempts": 4},
    )


def make_client(settings: S3Settings, endpoint: str | None) -> S3Client:
    """A boto3 S3 client for ``endpoint`` (None: AWS); credentials from the standard AWS chain."""
    session = boto3.session.Session()
    region = settings.region or session.region_name or "us-east-1"
    return session.client("s3", endpoint_url=endpoint or None, region_name=region, config=client_config(settings))


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


def open_s3_storage(url: str, settings: S3Settings) -> S3Storage:
    """The backend for ``--storage s3://BUCKET[/PREFIX]``; checks the bucket answers, or one line."""
    bucket, prefix = parse_url(url)
    endpoint = settings.endpoint
    client = make_client(settings, endpoint)
    public = settings.presign_endpoint()
    presign_client = make_client(settings, public) if public else client
    try:
        client.head_bucket(Bucket=bucket)
    except NoCredentialsError:
        why = "no AWS credentials found (set AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY or a profile)"
        raise SetupError(why) from None
    except ClientError as e:
        status = http_status(e)
        why = {404: "does not exist", 403: "is not accessible with these credentials"}.get(
            status, f"answered {error_code(e) or status}"
        )
        raise SetupError(f"S3 bucket {bucket!r} {why}") from None
    except BotoCoreError as e:
        raise SetupError(f"cannot reach S3{f' at {endpoint}' if endpoint else ''}: {e}") from None
    return S3Storage(client, bucket, prefix, presign_client=presign_client, endpoint=endpoint)
