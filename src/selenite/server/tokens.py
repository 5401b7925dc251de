"""Bearer tokens at rest: create, list and revoke (``selenite token create|list|revoke``).

A token is a random string printed once. The storage keeps only a record named after its
sha256, ``tokens/<sha256 hex>`` in the private state area, holding ``{"user", "created"}`` (the
format every version wrote, so older tokens list and revoke too). The first 12 hex digits of that
name are the token's id: enough to tell tokens apart, useless to forge one.
"""

from __future__ import annotations

import hashlib
import json
import re
import secrets
from dataclasses import dataclass

from selenite.server.errors import SetupError
from selenite.server.storage.base import Storage
from selenite.server.timestamps import now_iso

_USER = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@+-]{0,99}$")
_FOLDER = "tokens"
ID_LENGTH = 12


def token_name(token: str) -> str:
    """The state entry of a token: ``tokens/<sha256 hex>``."""
    return f"{_FOLDER}/" + hashlib.sha256(token.encode("utf-8")).hexdigest()


def check_user(user: str) -> None:
    if not _USER.match(user):
        raise SetupError(f"user name {user!r} must be 1-100 letters, digits or ._@+- (starting with a letter or digit)")


def create_token(storage: Storage, user: str) -> str:
    """A new bearer token for ``user``; only its hash is stored."""
    check_user(user)
    token = "sel_" + secrets.token_urlsafe(32)
    record = json.dumps({"user": user, "created": now_iso()}).encode()
    if not storage.state_create_exclusive(token_name(token), record):
        raise SetupError("token collision (try again)")
    return token


@dataclass(frozen=True)
class TokenInfo:
    id: str
    user: str
    created: str
    name: str  # the state entry


def list_tokens(storage: Storage, user: str | None = None) -> list[TokenInfo]:
    """Every stored token (of ``user``), oldest first; a record that cannot be read shows '?'."""
    found = []
    for name in storage.state_list(_FOLDER):
        digest = name.rpartition("/")[2]
        try:
            record = json.loads(storage.state_get(name) or b"")
            who, created = str(record["user"]), str(record.get("created", "?"))
        except (ValueError, KeyError, TypeError):
            who, created = "?", "?"
        if user is None or who == user:
            found.append(TokenInfo(id=digest[:ID_LENGTH], user=who, created=created, name=name))
    return sorted(found, key=lambda t: (t.created, t.id))


def revoke(storage: Storage, target: str) -> list[TokenInfo]:
    """Delete the token whose id is ``target``, or every token of user ``target``; returns them."""
    tokens = list_tokens(storage)
    by_id = [t for t in tokens if t.id == target]
    by_user = [t for t in tokens if t.user == target]
    if by_id and by_user:
        raise SetupError(f"{target!r} is both a token id and a user name; nothing revoked")
    chosen = by_id or by_user
    if not chosen:
        raise SetupError(f"no token has the id {target!r} and no user {target!r} has a token "
                         "(see `selenite token list`)")
    for t in chosen:
        storage.state_delete(t.name)
    return chosen
