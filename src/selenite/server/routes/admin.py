"""Projects and their rules: create, remove, permissions, quota, probation, refresh, unlock."""

from __future__ import annotations

import datetime
from typing import Any

from fastapi import APIRouter, Depends, Path, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response

from selenite.server import auth, locks
from selenite.server.bucket import (
    DEFAULT_QUOTA,
    add_log,
    add_usage,
    count_usage,
    dumps,
    latest_key,
    lock_key,
    parse_time,
    permissions_key,
    quota_key,
    read_json,
    recompute_latest,
    summary_key,
    usage_key,
    user_bytes,
    version_prefix,
    write_json,
)
from selenite.server.context import Context
from selenite.server.errors import HttpError
from selenite.server.http import (
    P_ASSET,
    P_PROJECT,
    P_VERSION,
    authorization_header,
    body_doc,
    ctx_of,
    empty,
    json_body,
    json_response,
)
from selenite.server.names import names

router = APIRouter(tags=["admin"])

_PERMS_EXAMPLE = {"owners": ["alice"], "uploaders": [{"id": "bob", "asset": "a", "until": "2030-01-01T00:00:00Z", "trusted": False}]}


# --- create ------------------------------------------------------------------------------------


def _create(ctx: Context, project: str, body: Any, authorization: str | None) -> None:
    auth.require_admin(ctx, authorization)
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


@router.post(
    "/create/{project}",
    summary="Create a project (admin)",
    openapi_extra=body_doc(
        "Optional permissions and quota; send `{}` for the defaults.",
        {"permissions": _PERMS_EXAMPLE, "quota": {"baseline": 1e10, "growth_rate": 2e10, "year": 2025}},
    ),
)
async def create_project(
    request: Request,
    project: str = Path(description=P_PROJECT),
    authorization: str | None = Depends(authorization_header),
    ctx: Context = Depends(ctx_of),
) -> Response:
    """Writes `..permissions`, `..quota` and `..usage`. Names follow the upload rules (no '/', '\\',
    leading '..'). 400 if the project exists."""
    (p,) = names(project)
    await run_in_threadpool(auth.require_admin, ctx, authorization)
    body = await json_body(request)
    await run_in_threadpool(_create, ctx, p, body, authorization)
    return empty()


# --- remove ------------------------------------------------------------------------------------


@router.delete("/remove/{project}", summary="Delete a project (admin)")
def remove_project(
    project: str = Path(description=P_PROJECT),
    authorization: str | None = Depends(authorization_header),
    ctx: Context = Depends(ctx_of),
) -> Response:
    """Deletes every key under `project/`. 200 even if it never existed; 403 while it is locked."""
    auth.require_admin(ctx, authorization)
    (p,) = names(project)
    with locks.holding(ctx, p, "", ""):
        ctx.storage.delete_prefix(f"{p}/")
    add_log(ctx.storage, {"type": "delete-project", "project": p})
    return empty()


@router.delete("/remove/{project}/{asset}", summary="Delete an asset (admin)")
def remove_asset(
    project: str = Path(description=P_PROJECT),
    asset: str = Path(description=P_ASSET),
    authorization: str | None = Depends(authorization_header),
    ctx: Context = Depends(ctx_of),
) -> Response:
    """Deletes `project/asset/` and subtracts the freed bytes from the usage. 200 if absent."""
    auth.require_admin(ctx, authorization)
    p, a = names(project, asset)
    with locks.holding(ctx, p, a, ""):
        freed = ctx.storage.delete_prefix(f"{p}/{a}/")
        add_usage(ctx.storage, p, -user_bytes(freed))
    add_log(ctx.storage, {"type": "delete-asset", "project": p, "asset": a})
    return empty()


@router.delete("/remove/{project}/{asset}/{version}", summary="Delete a version (admin)")
def remove_version(
    project: str = Path(description=P_PROJECT),
    asset: str = Path(description=P_ASSET),
    version: str = Path(description=P_VERSION),
    authorization: str | None = Depends(authorization_header),
    ctx: Context = Depends(ctx_of),
) -> Response:
    """Deletes the version, fixes the usage, and recomputes `..latest` if it was the latest."""
    auth.require_admin(ctx, authorization)
    p, a, v = names(project, asset, version)
    with locks.holding(ctx, p, a, v):
        latest = read_json(ctx.storage, latest_key(p, a), must=False)
        was_latest = isinstance(latest, dict) and latest.get("version") == v
        freed = ctx.storage.delete_prefix(version_prefix(p, a, v))
        add_usage(ctx.storage, p, -user_bytes(freed))
        if was_latest:
            recompute_latest(ctx.storage, p, a)
    add_log(ctx.storage, {"type": "delete-version", "project": p, "asset": a, "version": v, "latest": was_latest})
    return empty()


# --- permissions and quota ---------------------------------------------------------------------


def _set_permissions(ctx: Context, project: str, body: Any, authorization: str | None) -> None:
    user = auth.identify(ctx, authorization)
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


@router.put(
    "/permissions/{project}",
    summary="Replace a project's owners and/or uploaders (owner or admin)",
    openapi_extra=body_doc("`owners` and/or `uploaders`; each given list replaces the stored one.", _PERMS_EXAMPLE),
)
async def set_permissions(
    request: Request,
    project: str = Path(description=P_PROJECT),
    authorization: str | None = Depends(authorization_header),
    ctx: Context = Depends(ctx_of),
) -> Response:
    """404 if the project does not exist; 403 for a non-owner."""
    (p,) = names(project)
    await run_in_threadpool(auth.identify, ctx, authorization)
    body = await json_body(request)
    await run_in_threadpool(_set_permissions, ctx, p, body, authorization)
    return empty()


def _set_quota(ctx: Context, project: str, body: Any) -> None:
    quota = read_json(ctx.storage, quota_key(project), must=False)
    if not isinstance(quota, dict):
        raise HttpError(400, "project does not exist")
    auth.validate_quota(body)
    for k in list(quota):
        if k in body:
            quota[k] = body[k]
    write_json(ctx.storage, quota_key(project), quota)


@router.put(
    "/quota/{project}",
    summary="Change a project's quota (admin)",
    openapi_extra=body_doc("Any of baseline, growth_rate, year.", {"baseline": 1e11, "growth_rate": 0}),
)
async def set_quota(
    request: Request,
    project: str = Path(description=P_PROJECT),
    authorization: str | None = Depends(authorization_header),
    ctx: Context = Depends(ctx_of),
) -> Response:
    """quota = baseline + (this year - year) x growth_rate; uploads reaching it are refused."""
    (p,) = names(project)
    await run_in_threadpool(auth.require_admin, ctx, authorization)
    body = await json_body(request)
    await run_in_threadpool(_set_quota, ctx, p, body)
    return empty()


# --- probation ---------------------------------------------------------------------------------


def _probational_summary(ctx: Context, p: str, a: str, v: str, verb: str) -> dict[str, Any]:
    summary = read_json(ctx.storage, summary_key(p, a, v), must=False)
    if not isinstance(summary, dict):
        raise HttpError(400, "version does not exist")
    if not summary.get("on_probation"):
        raise HttpError(400, f"cannot {verb} probation for non-probational version")
    return summary


@router.post("/probation/approve/{project}/{asset}/{version}", summary="Make a probational version official (owner)")
def approve_probation(
    project: str = Path(description=P_PROJECT),
    asset: str = Path(description=P_ASSET),
    version: str = Path(description=P_VERSION),
    authorization: str | None = Depends(authorization_header),
    ctx: Context = Depends(ctx_of),
) -> Response:
    """Removes `on_probation`; the version becomes latest if it finished after the current latest."""
    p, a, v = names(project, asset, version)
    user = auth.identify(ctx, authorization)
    auth.check_management(ctx, p, user)
    with locks.holding(ctx, p, a, v):
        summary = _probational_summary(ctx, p, a, v, "approve")
        del summary["on_probation"]
        write_json(ctx.storage, summary_key(p, a, v), summary)
        latest = read_json(ctx.storage, latest_key(p, a), must=False)
        is_latest = True
        if isinstance(latest, dict) and isinstance(latest.get("version"), str):
            current = read_json(ctx.storage, summary_key(p, a, latest["version"]), must=False)
            mine = parse_time(summary.get("upload_finish"))
            theirs = parse_time(current.get("upload_finish")) if isinstance(current, dict) else None
            is_latest = mine is not None and (theirs is None or mine > theirs)
        if is_latest:
            write_json(ctx.storage, latest_key(p, a), {"version": v})
    add_log(ctx.storage, {"type": "add-version", "project": p, "asset": a, "version": v, "latest": is_latest})
    return empty()


@router.post("/probation/reject/{project}/{asset}/{version}", summary="Delete a probational version")
def reject_probation(
    project: str = Path(description=P_PROJECT),
    asset: str = Path(description=P_ASSET),
    version: str = Path(description=P_VERSION),
    authorization: str | None = Depends(authorization_header),
    ctx: Context = Depends(ctx_of),
) -> Response:
    """An owner/admin, or the uploader who made it (400 for another uploader). No change log."""
    p, a, v = names(project, asset, version)
    user = auth.identify(ctx, authorization)
    can_manage, _ = auth.check_upload(ctx, p, a, v, user)
    with locks.holding(ctx, p, a, v):
        summary = _probational_summary(ctx, p, a, v, "reject")
        if not can_manage and summary.get("upload_user_id") != user:
            raise HttpError(400, "cannot reject probation for different user")
        freed = ctx.storage.delete_prefix(version_prefix(p, a, v))
        add_usage(ctx.storage, p, -user_bytes(freed))
    return empty()


# --- refresh and unlock ------------------------------------------------------------------------


@router.post("/refresh/latest/{project}/{asset}", summary="Recompute an asset's latest version (admin)")
def refresh_latest(
    project: str = Path(description=P_PROJECT),
    asset: str = Path(description=P_ASSET),
    authorization: str | None = Depends(authorization_header),
    ctx: Context = Depends(ctx_of),
) -> Response:
    """`{"version": v}`, or `{}` when no finished non-probational version is left."""
    auth.require_admin(ctx, authorization)
    p, a = names(project, asset)
    if ctx.storage.head(permissions_key(p)) is None:
        raise HttpError(400, "project does not exist")
    with locks.holding(ctx, p, a, ""):
        latest = recompute_latest(ctx.storage, p, a)
    return json_response({"version": latest} if latest is not None else {})


@router.post("/refresh/usage/{project}", summary="Recount a project's usage (admin)")
def refresh_usage(
    project: str = Path(description=P_PROJECT),
    authorization: str | None = Depends(authorization_header),
    ctx: Context = Depends(ctx_of),
) -> Response:
    """Sums the sizes of every non-internal key under the project; returns the new `..usage`."""
    auth.require_admin(ctx, authorization)
    (p,) = names(project)
    usage = read_json(ctx.storage, usage_key(p), must=False)
    if not isinstance(usage, dict):
        raise HttpError(400, "project does not exist")
    with locks.holding(ctx, p, "placeholder", "placeholder"):
        usage["total"] = count_usage(ctx.storage, p)
        write_json(ctx.storage, usage_key(p), usage)
    return json_response(usage)


@router.delete("/unlock/{project}", summary="Remove a project's lock (admin)")
def unlock_project(
    project: str = Path(description=P_PROJECT),
    authorization: str | None = Depends(authorization_header),
    ctx: Context = Depends(ctx_of),
) -> Response:
    """200 whether or not there was a lock. The partial version is left (remove it, as the worker's
    README says). Abandoned locks also expire by themselves after `--lock-ttl`."""
    auth.require_admin(ctx, authorization)
    (p,) = names(project)
    ctx.storage.delete(lock_key(p))
    return empty()
