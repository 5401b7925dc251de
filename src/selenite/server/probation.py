"""Probational versions: approve one into the official history, or reject (delete) it (§1.13, §1.14)."""

from __future__ import annotations

from typing import Any

from selenite.server import auth, locks
from selenite.server.changelog import add_log
from selenite.server.context import Context
from selenite.server.errors import HttpError
from selenite.server.jsonfiles import read_json, write_json
from selenite.server.keyspace import latest_key, summary_key, version_prefix
from selenite.server.latest import is_newer_than_latest
from selenite.server.usage import add_usage, user_bytes


def _probational_summary(ctx: Context, p: str, a: str, v: str, verb: str) -> dict[str, Any]:
    summary = read_json(ctx.storage, summary_key(p, a, v), must=False)
    if not isinstance(summary, dict):
        raise HttpError(400, "version does not exist")
    if not summary.get("on_probation"):
        raise HttpError(400, f"cannot {verb} probation for non-probational version")
    return summary


def approve(ctx: Context, project: str, asset: str, version: str, user: str) -> None:
    """Owner or admin: drop ``on_probation``; the version becomes the latest if it finished after
    the current one."""
    auth.check_management(ctx, project, user)
    with locks.holding(ctx, project, asset, version):
        summary = _probational_summary(ctx, project, asset, version, "approve")
        del summary["on_probation"]
        write_json(ctx.storage, summary_key(project, asset, version), summary)
        is_latest = is_newer_than_latest(ctx.storage, project, asset, summary)
        if is_latest:
            write_json(ctx.storage, latest_key(project, asset), {"version": version})
    entry = {"type": "add-version", "project": project, "asset": asset, "version": version, "latest": is_latest}
    add_log(ctx.storage, ctx.log_prunes, entry)


def reject(ctx: Context, project: str, asset: str, version: str, user: str) -> None:
    """Owner, admin, or the uploader who made it (400 for another uploader): delete the version.
    No change log: the version was never official."""
    can_manage, _ = auth.check_upload(ctx, project, asset, version, user)
    with locks.holding(ctx, project, asset, version):
        summary = _probational_summary(ctx, project, asset, version, "reject")
        if not can_manage and summary.get("upload_user_id") != user:
            raise HttpError(400, "cannot reject probation for different user")
        freed = ctx.storage.delete_prefix(version_prefix(project, asset, version))
        add_usage(ctx.storage, project, -user_bytes(freed))

