"""Who is asking, and may they (gypsum-api.md §6, with our own tokens instead of GitHub).

Tokens are random strings printed once by ``selenite token create USER``; the storage keeps only
``sha256(token)`` in its private state area (``tokens/<hex>``, see tokens.py), read on every
request so that a token made (or revoked) while the server runs counts at once. There are no
organisations: a user matches an owner or uploader entry by exact, case-sensitive name.
"""

from __future__ import annotations

import json
import re
import time
from typing import Any

from selenite.server.context import Context
from selenite.server.errors import HttpError
from selenite.server.jsonfiles import read_json
from selenite.server.keyspace import permissions_key
from selenite.server.timestamps import parse_time
from selenite.server.tokens import token_name


def bearer(authorization: str | None) -> str:
    """The token after the exact prefix 'Bearer ' (§0.5)."""
    if not authorization or not authorization.startswith("Bearer "):
        raise HttpError(401, "no user identity supplied")
    return authorization[7:]


def identify(ctx: Context, authorization: str | None) -> str:
    """The user a request's token belongs to (401 when there is none or it is unknown)."""
    token = bearer(authorization)
    data = ctx.storage.state_get(token_name(token)) if token else None
    if data is None:
        raise HttpError(401, "failed to query user identity: unknown or revoked token")
    try:
        user = json.loads(data)["user"]
    except (ValueError, KeyError, TypeError):
        raise HttpError(500, "corrupt token record") from None
    return str(user)


def is_admin(ctx: Context, user: str) -> bool:
    return user in ctx.settings.admins


def require_admin(ctx: Context, authorization: str | None) -> str:
    user = identify(ctx, authorization)
    if not is_admin(ctx, user):
        raise HttpError(403, "user is not an administrator")
    return user


def load_permissions(ctx: Context, project: str) -> dict[str, Any] | None:
    perms = read_json(ctx.storage, permissions_key(project), must=False)
    return perms if isinstance(perms, dict) else None


def _owners(perms: dict[str, Any]) -> list[Any]:
    owners = perms.get("owners")
    return owners if isinstance(owners, list) else []


def is_owner(ctx: Context, perms: dict[str, Any], user: str) -> bool:
    return user in _owners(perms) or is_admin(ctx, user)


def check_management(ctx: Context, project: str, user: str) -> dict[str, Any]:
    """§6.5: owner or admin."""
    perms = load_permissions(ctx, project)
    if perms is None:
        raise HttpError(400, f"no existing permissions for project '{project}'")
    if not is_owner(ctx, perms, user):
        raise HttpError(403, f"user is not an owner of project '{project}'")
    return perms


def check_upload(ctx: Context, project: str, asset: str, version: str, user: str) -> tuple[bool, bool]:
    """§6.3: ``(can_manage, is_trusted)``, or 400/403.

    Quirk #3 replicated on purpose: only the FIRST uploader entry naming the user is considered;
    if its asset/version/until does not fit, the scan stops there (a later, broader entry is
    never reached), exactly as the reference worker decides.
    """
    perms = load_permissions(ctx, project)
    if perms is None:
        raise HttpError(400, f"no existing permissions for project '{project}'")
    if is_owner(ctx, perms, user):
        return True, True
    uploaders = perms.get("uploaders")
    for entry in uploaders if isinstance(uploaders, list) else []:
        if not isinstance(entry, dict) or entry.get("id") != user:
            continue
        if "asset" in entry and entry["asset"] != asset:
            break
        if "version" in entry and entry["version"] != version:
            break
        if "until" in entry:
            until = _parse_until(entry["until"])
            if until is None or until < time.time():
                break
        return False, entry.get("trusted") is True
    raise HttpError(403, "user is not authorized to upload")


_UNTIL = re.compile(r"^[1-9]\d{3}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}")


def _parse_until(value: object) -> float | None:
    if not isinstance(value, str) or not _UNTIL.match(value):
        return None
    # 'Z' and fractional seconds of any length: normalise what fromisoformat (3.11) may refuse.
    return parse_time(value)


def validate_permissions(body: object) -> None:
    """§6.4, every refusal a 400 (the worker's two '200 quirk' messages included)."""
    if not isinstance(body, dict):
        raise HttpError(400, "expected permissions to be a JSON object")
    if "owners" in body:
        owners = body["owners"]
        if not isinstance(owners, list):
            raise HttpError(400, "expected 'owners' to be an array")
        if not all(isinstance(o, str) for o in owners):
            raise HttpError(400, "expected 'owners' to be an array of strings")
    if "uploaders" in body:
        uploaders = body["uploaders"]
        if not isinstance(uploaders, list):
            raise HttpError(400, "expected 'uploaders' to be an array")
        for u in uploaders:
            _validate_uploader(u)


def _validate_uploader(u: object) -> None:
    """One entry of ``uploaders`` (§6.4)."""
    if not isinstance(u, dict):
        raise HttpError(400, "expected 'uploaders' to be an array of objects")
    if not isinstance(u.get("id"), str):
        raise HttpError(400, "expected 'uploaders.id' property to be a string")
    if "until" in u and _parse_until(u["until"]) is None:
        raise HttpError(400, "expected 'uploaders.until' property to be a date/time-formatted string")
    if "trusted" in u and not isinstance(u["trusted"], bool):
        raise HttpError(400, "expected 'uploaders.trusted' property to be a boolean")
    if "asset" in u and not isinstance(u["asset"], str):
        raise HttpError(400, "expected 'asset' property to be a string")
    if "version" in u and not isinstance(u["version"], str):
        raise HttpError(400, "expected 'version' property to be a string")


def validate_quota(body: object) -> None:
    """§5.3."""
    if not isinstance(body, dict):
        raise HttpError(400, "expected quota specification to be a JSON object")
    for f in ("baseline", "growth_rate", "year"):
        if f in body:
            v = body[f]
            if not isinstance(v, (int, float)) or isinstance(v, bool):
                raise HttpError(400, f"expected '{f}' to be a number")
            if v < 0:
                raise HttpError(400, f"expected '{f}' to be a non-negative number")
