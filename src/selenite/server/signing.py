"""HMAC-signed, expiring upload URLs for backends whose uploads go through the server itself.

The folder backend cannot hand out object-store URLs, so it hands out the server's own
``PUT /_selenite/upload?...`` with the key, the declared md5 and size, the expiry and the upload
session's lock hash in the query, signed with a secret kept in the storage's private state area.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from urllib.parse import urlencode

from selenite.server.storage.base import StateStore

UPLOAD_ROUTE = "/_selenite/upload"
_SECRET_NAME = "upload-signing-secret"


def upload_secret(storage: StateStore) -> bytes:
    """The storage's signing secret, created on first use (every server on one storage agrees)."""
    secret = storage.state_get(_SECRET_NAME)
    if secret:
        return secret
    storage.state_create_exclusive(_SECRET_NAME, secrets.token_hex(32).encode())
    secret = storage.state_get(_SECRET_NAME)
    assert secret, "the upload signing secret could not be created"
    return secret


def _signature(secret: bytes, key: str, md5_b64: str, size: int, expires: int, lock_hash: str) -> str:
    # Length-prefixed fields, so that no two different tuples sign the same message.
    msg = "".join(f"{len(f)}:{f};" for f in ("PUT", key, md5_b64, str(size), str(expires), lock_hash))
    return hmac.new(secret, msg.encode(), hashlib.sha256).hexdigest()


def signed_upload_url(
    secret: bytes, base_url: str, key: str, md5_b64: str, size: int, expires_in: int, lock_hash: str
) -> str:
    expires = int(time.time()) + int(expires_in)
    query = {
        "key": key,
        "md5": md5_b64,
        "size": str(size),
        "expires": str(expires),
        "lock": lock_hash,
        "sig": _signature(secret, key, md5_b64, size, expires, lock_hash),
    }
    return f"{base_url.rstrip('/')}{UPLOAD_ROUTE}?{urlencode(query)}"


def check_signature(
    secret: bytes, key: str, md5_b64: str, size: int, expires: int, lock_hash: str, sig: str
) -> str | None:
    """None when the URL is genuine and fresh, else the reason to refuse it."""
    good = _signature(secret, key, md5_b64, size, expires, lock_hash)
    if not hmac.compare_digest(good, sig):
        return "upload URL signature does not match (tampered or from another server)"
    if expires < time.time():
        return "upload URL has expired; ask for a new one at /upload/presigned-file"
    return None
