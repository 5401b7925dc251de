"""`selenite token create|list|revoke`: the registry's bearer tokens, read and written in its storage
directly (no server needs to run; running servers see the change at once)."""

from __future__ import annotations

import json
from pathlib import Path

from selenite import output
from selenite.errors import FatalError
from selenite.server import tokens
from selenite.server.errors import SetupError
from selenite.server.storage.factory import open_storage
from selenite.server.storage.s3settings import S3Settings


def create(user: str, root: Path | None, storage: str | None, s3: S3Settings, label: str | None = None) -> int:
    """Print a new token for USER on stdout; the registry keeps only its hash (and ``label``)."""
    try:  # the server's refusals (SetupError) are one line here, like every CLI error
        store = open_storage(root=root, storage=storage, s3=s3)
        token = tokens.create_token(store, user, label)
    except SetupError as e:
        raise FatalError(str(e)) from None
    output.write(token)
    return 0


def show(user: str | None, root: Path | None, storage: str | None, s3: S3Settings, as_json: bool = False) -> int:
    """One line per stored token: its id, creation time, user and label (never the token itself)."""
    try:
        store = open_storage(root=root, storage=storage, s3=s3)
    except SetupError as e:
        raise FatalError(str(e)) from None
    found = tokens.list_tokens(store, user)
    if as_json:
        output.write(json.dumps([{"id": t.id, "user": t.user, "created": t.created, "label": t.label}
                                 for t in found], indent=2))
        return 0
    for t in found:
        output.write(output.printable(f"{t.id}  {t.created}  {t.user}" + (f"  {t.label}" if t.label else "")))
    if not found:
        output.info(f"no tokens{f' for {user}' if user else ''}")
    return 0


def revoke(target: str, root: Path | None, storage: str | None, s3: S3Settings) -> int:
    """Delete one token (by id) or all of a user's; running servers refuse them at once."""
    try:
        store = open_storage(root=root, storage=storage, s3=s3)
        gone = tokens.revoke(store, target)
    except SetupError as e:
        raise FatalError(str(e)) from None
    for t in gone:
        output.info(f"revoked token {t.id} of {t.user}{f' ({t.label})' if t.label else ''} (created {t.created})")
    return 0
