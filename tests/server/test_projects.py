"""server.projects and server.probation, in process over a real FolderStorage: what the admin and
probation routes do once the request is decoded and the caller known."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from selenite.server import probation, projects
from selenite.server.context import Context, ServerSettings
from selenite.server.errors import HttpError
from selenite.server.jsonfiles import read_json, write_json
from selenite.server.keyspace import latest_key, lock_key, permissions_key, summary_key, usage_key
from selenite.server.storage.folder import FolderStorage

P, A = "proj", "asset"


@pytest.fixture
def ctx(tmp_path: Path) -> Context:
    c = Context(storage=FolderStorage(tmp_path / "registry"), settings=ServerSettings(admins=("admin",)))
    projects.create(c, P, {"permissions": {"owners": ["alice"], "uploaders": [{"id": "bob"}]}})
    return c


def _refusal(fn: Any, *args: Any) -> tuple[int, str]:
    with pytest.raises(HttpError) as e:
        fn(*args)
    return e.value.status, e.value.reason


def _version(ctx: Context, v: str, finish: str, *, probation: bool = False, size: int = 3) -> None:
    ctx.storage.put_bytes(f"{P}/{A}/{v}/f.txt", b"x" * size)
    summary: dict[str, Any] = {"upload_user_id": "bob", "upload_finish": finish}
    if probation:
        summary["on_probation"] = True
    write_json(ctx.storage, summary_key(P, A, v), summary)


def test_create_writes_the_three_files_once(ctx: Context) -> None:
    assert read_json(ctx.storage, permissions_key(P)) == {"owners": ["alice"], "uploaders": [{"id": "bob"}]}
    assert read_json(ctx.storage, usage_key(P)) == {"total": 0}
    assert _refusal(projects.create, ctx, P, {}) == (400, f"project '{P}' already exists")
    assert _refusal(projects.create, ctx, "other", []) == (400, "expected a JSON object in the request body")
    assert _refusal(projects.create, ctx, "other", {"quota": {"baseline": -1}}) == (
        400, "expected 'baseline' to be a non-negative number")


def test_permissions_only_for_owners_and_only_known_keys(ctx: Context) -> None:
    assert _refusal(projects.set_permissions, ctx, "nope", "alice", {}) == (404, "project 'nope' does not exist")
    not_owner = (403, f"user does not own project '{P}'")
    assert _refusal(projects.set_permissions, ctx, P, "bob", {"owners": []}) == not_owner
    projects.set_permissions(ctx, P, "admin", {"owners": ["carol"], "extra": 1})
    assert read_json(ctx.storage, permissions_key(P)) == {"owners": ["carol"], "uploaders": [{"id": "bob"}]}


def test_removals_fix_usage_and_latest(ctx: Context) -> None:
    _version(ctx, "v1", "2026-01-01T00:00:00.000Z", size=3)
    _version(ctx, "v2", "2026-01-02T00:00:00.000Z", size=5)
    write_json(ctx.storage, usage_key(P), {"total": 8})
    write_json(ctx.storage, latest_key(P, A), {"version": "v2"})
    projects.remove_version(ctx, P, A, "v2")
    assert read_json(ctx.storage, usage_key(P)) == {"total": 3}
    assert read_json(ctx.storage, latest_key(P, A)) == {"version": "v1"}  # it was the latest: recomputed
    assert projects.refresh_usage(ctx, P) == {"total": 3}
    projects.remove_asset(ctx, P, A)
    assert read_json(ctx.storage, usage_key(P)) == {"total": 0}
    logs = [json.loads(ctx.storage.get_bytes(k) or b"") for k, _ in ctx.storage.list_recursive("..logs/")]
    assert sorted(e["type"] for e in logs) == ["delete-asset", "delete-version"]
    projects.remove_project(ctx, P)
    assert ctx.storage.list_dir(f"{P}/") == []
    assert ctx.storage.get_bytes(lock_key(P)) is None  # every admin operation released its lock


def test_approve_makes_latest_only_when_newer_and_reject_is_for_the_uploader(ctx: Context) -> None:
    _version(ctx, "v1", "2026-01-02T00:00:00.000Z")
    _version(ctx, "v0", "2026-01-01T00:00:00.000Z", probation=True)
    _version(ctx, "v3", "2026-01-03T00:00:00.000Z", probation=True)
    write_json(ctx.storage, latest_key(P, A), {"version": "v1"})
    assert _refusal(probation.approve, ctx, P, A, "v0", "bob") == (403, f"user is not an owner of project '{P}'")
    probation.approve(ctx, P, A, "v0", "alice")
    assert read_json(ctx.storage, latest_key(P, A)) == {"version": "v1"}  # v0 finished earlier
    assert _refusal(probation.approve, ctx, P, A, "v0", "alice") == (
        400, "cannot approve probation for non-probational version")
    probation.reject(ctx, P, A, "v3", "bob")  # the uploader who made it
    assert ctx.storage.head(summary_key(P, A, "v3")) is None
    assert _refusal(probation.reject, ctx, P, A, "v9", "alice") == (400, "version does not exist")
    assert projects.refresh_latest(ctx, P, A) == "v1"
    assert _refusal(projects.refresh_latest, ctx, "nope", A) == (400, "project does not exist")
