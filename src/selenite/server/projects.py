"""Projects and what admins and owners change in them: create, remove, permissions, quota, usage,
unlock (gypsum-api.md §1.9-§1.17). The routes (``routes/admin.py``) decode the request, check who
asks, and call these."""

from __future__ import annotations

import datetime
from functools import partial
from typing import Any

from selenite.server import auth, locks
from selenite.server.changelog import add_log
from selenite.server.context import Context
from selenite.server.errors import HttpError
from selenite.server.jsonfiles import dumps, read_json, write_json
from selenite.server.keyspace import latest_key, lock_key, permissions_key, quota_key, usage_key, version_prefix
from selenite.server.latest import recompute_latest
from selenite.server.materialise import Scope, materialise
from selenite.server.usage import DEFAULT_QUOTA, add_usage, count_usage, user_bytes


def create(ctx: Context, project: str, body: Any) -> None:
    """Write ``..permissions``, ``..quota`` and ``..usage``; 400 if the project exists."""
    if ctx.storage.head(permissions_key(project)) is not None:
        raise HttpError(400, f"project '{project}' already exists")
    if not isinstance(body, dict):
        raise HttpError(400, "expected a JSON object in the request body")
    perms: dict[str, Any] = {"owners": [], "uploaders": []}
    if "permissions" in body:
        auth.validate_permissions(body["permissions"])
        perms.update({k: body["permissions"][k] for k in ("owners", "uploaders") if k in body["permissions"]})
    quota: dict[str, Any] = {**DEFAULT_QUOTA, "year": datetime.datetime.now(datetime.UTC).year}
    if "quota" in body:
        auth.validate_quota(body["quota"])
        quota.update({k: body["quota"][k] for k in ("baseline", "growth_rate", "year") if k in body["quota"]})
    # ..permissions is what makes a project exist: create it exclusively, so two creates cannot both win.
    if not ctx.storage.create_exclusive(permissions_key(project), dumps(perms), content_type="application/json"):
        raise HttpError(400, f"project '{project}' already exists")
    write_json(ctx.storage, quota_key(project), quota)
    write_json(ctx.storage, usage_key(project), {"total": 0})


def remove_project(ctx: Context, project: str) -> None:
    """Delete every key under ``project/`` (nothing to do when it never existed), after giving the
    versions of other projects that link into it their own copies (``materialise``)."""
    with locks.holding(ctx, project, "", ""):
        materialise(ctx.storage, Scope(project), partial(locks.holding, ctx))
        ctx.storage.delete_prefix(f"{project}/")
    add_log(ctx.storage, ctx.log_prunes, {"type": "delete-project", "project": project})


def remove_asset(ctx: Context, project: str, asset: str) -> None:
    """Delete ``project/asset/`` (after ``materialise``) and subtract the freed bytes from the usage."""
    with locks.holding(ctx, project, asset, ""):
        materialise(ctx.storage, Scope(project, asset), partial(locks.holding, ctx))
        freed = ctx.storage.delete_prefix(f"{project}/{asset}/")
        add_usage(ctx.storage, project, -user_bytes(freed))
    add_log(ctx.storage, ctx.log_prunes, {"type": "delete-asset", "project": project, "asset": asset})


def remove_version(ctx: Context, project: str, asset: str, version: str) -> None:
    """Delete the version (after ``materialise``), fix the usage, and recompute ``..latest`` if it
    was the latest."""
    with locks.holding(ctx, project, asset, version):
        latest = read_json(ctx.storage, latest_key(project, asset), must=False)
        was_latest = isinstance(latest, dict) and latest.get("version") == version
        materialise(ctx.storage, Scope(project, asset, version), partial(locks.holding, ctx))
        freed = ctx.storage.delete_prefix(version_prefix(project, asset, version))
        add_usage(ctx.storage, project, -user_bytes(freed))
        if was_latest:
            recompute_latest(ctx.storage, project, asset)
    entry = {"type": "delete-version", "project": project, "asset": asset, "version": version, "latest": was_latest}
    add_log(ctx.storage, ctx.log_prunes, entry)


def set_permissions(ctx: Context, project: str, user: str, body: Any) -> None:
    """Replace the owners and/or uploaders ``body`` names: 404 for no project, 403 for a non-owner."""
    perms = auth.load_permissions(ctx, project)
    if perms is None:
        raise HttpError(404, f"project '{project}' does not exist")
    if not auth.is_owner(ctx, perms, user):
        raise HttpError(403, f"user does not own project '{project}'")
    auth.validate_permissions(body)
    changed = False
    for k in list(perms):  # only keys already present are replaced (worker merge rule)
        if k in body:
            perms[k] = body[k]
            changed = True
    if changed:
        write_json(ctx.storage, permissions_key(project), perms)


def set_quota(ctx: Context, project: str, body: Any) -> None:
    """Replace the quota fields ``body`` names (only those the project's quota already has)."""
    quota = read_json(ctx.storage, quota_key(project), must=False)
    if not isinstance(quota, dict):
        raise HttpError(400, "project does not exist")
    auth.validate_quota(body)
    for k in list(quota):
        if k in body:
            quota[k] = body[k]
    write_json(ctx.storage, quota_key(project), quota)


def refresh_latest(ctx: Context, project: str, asset: str) -> str | None:
    """Recompute the asset's latest version (None when no finished, official one is left)."""
    if ctx.storage.head(permissions_key(project)) is None:
        raise HttpError(400, "project does not exist")
    with locks.holding(ctx, project, asset, ""):
        return recompute_latest(ctx.storage, project, asset)


def refresh_usage(ctx: Context, project: str) -> dict[str, Any]:
    """Recount the project's usage from its keys; the new ``..usage``."""
    usage = read_json(ctx.storage, usage_key(project), must=False)
    if not isinstance(usage, dict):
        raise HttpError(400, "project does not exist")
    with locks.holding(ctx, project, "", ""):
        usage["total"] = count_usage(ctx.storage, project)
        write_json(ctx.storage, usage_key(project), usage)
    return usage


def unlock(ctx: Context, project: str) -> None:
    """Remove the project's lock, whoever holds it (the partial version it guarded stays)."""
    ctx.storage.delete(lock_key(project))
