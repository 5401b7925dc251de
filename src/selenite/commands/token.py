"""`selenite token create|list|revoke`: the registry's bearer tokens, read and written in its storage
directly (``selenite.api.tokens``; no server needs to run; running servers see the change at once)."""

from __future__ import annotations

import json
from pathlib import Path

from selenite import output
from selenite.api.tokens import create_token, list_tokens, revoke_token
from selenite.server.storage.s3settings import S3Settings


def create(user: str, root: Path | None, storage: str | None, s3: S3Settings, label: str | None = None) -> int:
    """Print a new token for USER on stdout; the registry keeps only its hash (and ``label``)."""
    output.write(create_token(user, root=root, storage=storage, s3=s3, label=label))
    return 0


def show(user: str | None, root: Path | None, storage: str | None, s3: S3Settings, as_json: bool = False) -> int:
    """One line per stored token: its id, creation time, user and label (never the token itself)."""
    found = list_tokens(user, root=root, storage=storage, s3=s3)
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
    for t in revoke_token(target, root=root, storage=storage, s3=s3):
        output.info(f"revoked token {t.id} of {t.user}{f' ({t.label})' if t.label else ''} (created {t.created})")
    return 0
