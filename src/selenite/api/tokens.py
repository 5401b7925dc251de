"""A registry's bearer tokens, read and written in its storage directly (no server needs to run;
running servers see a change at once): `selenite token create|list|revoke` and the Python API's
``create_token``, ``list_tokens``, ``revoke_token``. The storage is a folder (``root``) or an S3
location (``storage``, ``s3://BUCKET[/PREFIX]``, with ``s3``)."""

from __future__ import annotations

from pathlib import Path

from selenite.errors import FatalError
from selenite.server import tokens
from selenite.server.errors import SetupError
from selenite.server.storage.base import Storage
from selenite.server.storage.factory import open_storage
from selenite.server.storage.s3settings import S3Settings
from selenite.server.tokens import TokenInfo

__all__ = ["TokenInfo", "create_token", "list_tokens", "revoke_token"]


def _open(root: str | Path | None, storage: str | None, s3: S3Settings | None) -> Storage:
    try:  # the server's refusals (SetupError) are a one-line FatalError here, like every client error
        return open_storage(root=Path(root) if root is not None else None, storage=storage, s3=s3)
    except SetupError as e:
        raise FatalError(str(e)) from None


def create_token(user: str, *, root: str | Path | None = None, storage: str | None = None,
                 s3: S3Settings | None = None, label: str | None = None) -> str:
    """A new bearer token for ``user`` (the registry keeps only its hash, and ``label``: what it is for)."""
    store = _open(root, storage, s3)
    try:
        return tokens.create_token(store, user, label)
    except SetupError as e:
        raise FatalError(str(e)) from None


def list_tokens(user: str | None = None, *, root: str | Path | None = None, storage: str | None = None,
                s3: S3Settings | None = None) -> list[TokenInfo]:
    """The stored tokens (of ``user``, else all): id, user, creation time, label; never the token."""
    return tokens.list_tokens(_open(root, storage, s3), user)


def revoke_token(target: str, *, root: str | Path | None = None, storage: str | None = None,
                 s3: S3Settings | None = None) -> list[TokenInfo]:
    """Delete the token ``target`` names (its id or label), or every token of the user it names;
    returns those revoked. Running servers refuse them (401) at once."""
    store = _open(root, storage, s3)
    try:
        return tokens.revoke(store, target)
    except SetupError as e:
        raise FatalError(str(e)) from None
