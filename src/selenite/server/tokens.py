"""Bearer tokens at rest: create, list and revoke (``selenite token create|list|revoke``).

A token is a random string printed once. The storage keeps only a record named after its
sha256, ``tokens/<sha256 hex>`` in the private state area, holding ``{"user", "created"}`` (the
format every version wrote, so older tokens list and revoke too) and, when one was given, a
``label`` saying what the token is for ("laptop", "ci"). The first 12 hex digits of that name are
the token's id: enough to tell tokens apart, useless to forge one. A token is revoked by its id,
its label, or its user (all of theirs).
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


def check_label(label: str) -> None:
    if not _USER.match(label):
        raise SetupError(f"token label {label!r} must be 1-100 letters, digits or ._@+- "
                         "(starting with a letter or digit)")


def create_token(storage: Storage, user: str, label: str | None = None) -> str:
    """A new bearer token for ``user`` (described by ``label``); only its hash is stored."""
    check_user(user)
    fields = {"user": user, "created": now_iso()}
    if label is not None:
        check_label(label)
        fields["label"] = label
    token = "sel_" + secrets.token_urlsafe(32)
    record = json.dumps(fields).encode()
    if not storage.state_create_exclusive(token_name(token), record):
        raise SetupError("token collision (try again)")
    return token


@dataclass(frozen=True)
class TokenInfo:
    id: str
    user: str
    created: str
    name: str  # the state entry
    label: str | None = None


def list_tokens(storage: Storage, user: str | None = None) -> list[TokenInfo]:
    """Every stored token (of ``user``), oldest first; a record that cannot be read shows '?'."""
    found = []
    for name in storage.state_list(_FOLDER):
        digest = name.rpartition("/")[2]
        try:
            record = json.loads(storage.state_get(name) or b"")
            who, created = str(record["user"]), str(record.get("created", "?"))
            label = record["label"] if isinstance(record.get("label"), str) else None
        except (ValueError, KeyError, TypeError):
            who, created, label = "?", "?", None
        if user is None or who == user:
            found.append(TokenInfo(id=digest[:ID_LENGTH], user=who, created=created, name=name, label=label))
    return sorted(found, key=lambda t: (t.created, t.id))


def revoke(storage: Storage, target: str) -> list[TokenInfo]:
    """Delete the token whose id is ``target``, the tokens labelled ``target``, or every token of
    user ``target``; returns them. A ``target`` that names more than one of these revokes nothing."""
    tokens = list_tokens(storage)
    matches = {kind: [t for t in tokens if getattr(t, kind) == target] for kind in ("id", "label", "user")}
    kinds = [kind for kind, found in matches.items() if found]
    if len(kinds) > 1:
        named = " and ".join({"id": "a token id", "label": "a token label", "user": "a user name"}[k] for k in kinds)
        raise SetupError(f"{target!r} is both {named}; nothing revoked")
    chosen = matches[kinds[0]] if kinds else []
    if not chosen:
        raise SetupError(f"no token has the id or label {target!r} and no user {target!r} has a token "
                         "(see `selenite token list`)")
    for t in chosen:
        storage.state_delete(t.name)
    return chosen
