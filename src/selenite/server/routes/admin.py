"""Projects and their rules: create, remove, permissions, quota, probation, refresh, unlock.

Each route decodes its request and delegates to ``projects`` or ``probation``."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response

from selenite.server import probation, projects
from selenite.server.http import body_doc, empty, json_body, json_response
from selenite.server.routes.params import Admin, Caller, Ctx, Project, ProjectAsset, ProjectAssetVersion

router = APIRouter(tags=["admin"])

_PERMS_EXAMPLE = {
    "owners": ["alice"],
    "uploaders": [{"id": "bob", "asset": "a", "until": "2030-01-01T00:00:00Z", "trusted": False}],
}


@router.post(
    "/create/{project}",
    summary="Create a project (admin)",
    openapi_extra=body_doc(
        "Optional permissions and quota; send `{}` for the defaults.",
        {"permissions": _PERMS_EXAMPLE, "quota": {"baseline": 1e10, "growth_rate": 2e10, "year": 2025}},
    ),
)
async def create_project(request: Request, project: Project, _admin: Admin, ctx: Ctx) -> Response:
    """Writes `..permissions`, `..quota` and `..usage`. Names follow the upload rules (no '/', '\\',
    leading '..'). 400 if the project exists."""
    body = await json_body(request)
    await run_in_threadpool(projects.create, ctx, project, body)
    return empty()


@router.delete("/remove/{project}", summary="Delete a project (admin)")
def remove_project(_admin: Admin, project: Project, ctx: Ctx) -> Response:
    """Deletes every key under `project/`. 200 even if it never existed; 403 while it is locked."""
    projects.remove_project(ctx, project)
    return empty()


@router.delete("/remove/{project}/{asset}", summary="Delete an asset (admin)")
def remove_asset(_admin: Admin, pa: ProjectAsset, ctx: Ctx) -> Response:
    """Deletes `project/asset/` and subtracts the freed bytes from the usage. 200 if absent."""
    projects.remove_asset(ctx, *pa)
    return empty()


@router.delete("/remove/{project}/{asset}/{version}", summary="Delete a version (admin)")
def remove_version(_admin: Admin, pav: ProjectAssetVersion, ctx: Ctx) -> Response:
    """Deletes the version, fixes the usage, and recomputes `..latest` if it was the latest."""
    projects.remove_version(ctx, *pav)
    return empty()


@router.put(
    "/permissions/{project}",
    summary="Replace a project's owners and/or uploaders (owner or admin)",
    openapi_extra=body_doc("`owners` and/or `uploaders`; each given list replaces the stored one.", _PERMS_EXAMPLE),
)
async def set_permissions(request: Request, project: Project, user: Caller, ctx: Ctx) -> Response:
    """404 if the project does not exist; 403 for a non-owner."""
    body = await json_body(request)
    await run_in_threadpool(projects.set_permissions, ctx, project, user, body)
    return empty()


@router.put(
    "/quota/{project}",
    summary="Change a project's quota (admin)",
    openapi_extra=body_doc("Any of baseline, growth_rate, year.", {"baseline": 1e11, "growth_rate": 0}),
)
async def set_quota(request: Request, project: Project, _admin: Admin, ctx: Ctx) -> Response:
    """quota = baseline + (this year - year) x growth_rate; uploads reaching it are refused."""
    body = await json_body(request)
    await run_in_threadpool(projects.set_quota, ctx, project, body)
    return empty()


@router.post("/probation/approve/{project}/{asset}/{version}", summary="Make a probational version official (owner)")
def approve_probation(pav: ProjectAssetVersion, user: Caller, ctx: Ctx) -> Response:
    """Removes `on_probation`; the version becomes latest if it finished after the current latest."""
    probation.approve(ctx, *pav, user)
    return empty()


@router.post("/probation/reject/{project}/{asset}/{version}", summary="Delete a probational version")
def reject_probation(pav: ProjectAssetVersion, user: Caller, ctx: Ctx) -> Response:
    """An owner/admin, or the uploader who made it (400 for another uploader). No change log."""
    probation.reject(ctx, *pav, user)
    return empty()


@router.post("/refresh/latest/{project}/{asset}", summary="Recompute an asset's latest version (admin)")
def refresh_latest(_admin: Admin, pa: ProjectAsset, ctx: Ctx) -> Response:
    """`{"version": v}`, or `{}` when no finished non-probational version is left."""
    latest = projects.refresh_latest(ctx, *pa)
    return json_response({"version": latest} if latest is not None else {})


@router.post("/refresh/usage/{project}", summary="Recount a project's usage (admin)")
def refresh_usage(_admin: Admin, project: Project, ctx: Ctx) -> Response:
    """Sums the sizes of every non-internal key under the project; returns the new `..usage`."""
    return json_response(projects.refresh_usage(ctx, project))


@router.delete("/unlock/{project}", summary="Remove a project's lock (admin)")
def unlock_project(_admin: Admin, project: Project, ctx: Ctx) -> Response:
    """200 whether or not there was a lock. The partial version is left (remove it, as the worker's
    README says). Abandoned locks also expire by themselves after `--lock-ttl`."""
    projects.unlock(ctx, project)
    return empty()
