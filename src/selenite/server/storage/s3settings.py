"""How a server reaches its S3 store, as one value the command line resolves and passes down.

``selenite serve`` and ``selenite token`` fill it from their options, whose defaults come from the
environment (``SELENITE_S3_CHECKSUMS``, ``SELENITE_S3_ADDRESSING``, ``SELENITE_S3_PUBLIC_ENDPOINT``);
nothing below the command line reads the environment. The values are checked when an S3 client is
made (``s3connect``), so a folder registry ignores them, as it always did.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from selenite.server.errors import SetupError

Checksums = Literal["when_required", "when_supported"]
Addressing = Literal["path", "virtual", "auto"]

CHECKSUMS_ENV = "SELENITE_S3_CHECKSUMS"
ADDRESSING_ENV = "SELENITE_S3_ADDRESSING"
PUBLIC_ENDPOINT_ENV = "SELENITE_S3_PUBLIC_ENDPOINT"
_CHECKSUMS: tuple[Checksums, ...] = ("when_required", "when_supported")
_ADDRESSING: tuple[Addressing, ...] = ("path", "virtual", "auto")


@dataclass(frozen=True)
class S3Settings:
    """``--s3-*`` options. Empty strings count as unset (an exported but empty variable)."""

    endpoint: str | None = None  # the store's S3 API URL; None: AWS
    region: str | None = None  # None: from the AWS config, else us-east-1
    # boto3's request_checksum_calculation and response_checksum_validation. boto3 >= 1.36
    # otherwise adds CRC32 checksums that several S3 clones reject; we send Content-MD5 ourselves
    # wherever integrity matters.
    checksums: str | None = None  # None: when_required
    # path | virtual | auto; None: path when an endpoint is given (what S3 clones expect), else auto.
    addressing: str | None = None
    # The endpoint presigned URLs point to, when clients reach the store under another address
    # than the servers do (the URL's signature covers the host). None: the endpoint.
    public_endpoint: str | None = None

    def checksum_mode(self) -> Checksums:
        value = (self.checksums or "").strip() or "when_required"
        for mode in _CHECKSUMS:
            if value == mode:
                return mode
        raise SetupError(f"--s3-checksums ({CHECKSUMS_ENV}) must be one of {', '.join(_CHECKSUMS)}, not {value!r}")

    def addressing_style(self) -> Addressing:
        value = (self.addressing or "").strip() or ("path" if self.endpoint else "auto")
        for style in _ADDRESSING:
            if value == style:
                return style
        raise SetupError(f"--s3-addressing ({ADDRESSING_ENV}) must be path, virtual or auto, not {value!r}")

    def presign_endpoint(self) -> str | None:
        """The endpoint of the client that signs upload URLs, when it is not the servers' own."""
        return (self.public_endpoint or "").strip() or None
