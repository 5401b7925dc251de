"""server.auth: who is asking (bearer tokens) and what they may do (owners, admins, uploaders)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from selenite.server import auth
from selenite.server.context import Context, ServerSettings
from selenite.server.errors import HttpError
from selenite.server.keyspace import permissions_key
from selenite.server.storage.folder import FolderStorage
from selenite.server.tokens import create_token, token_name

FUTURE, PAST = "2999-01-01T00:00:00Z", "2001-01-01T00:00:00.123456+00:00"


@pytest.fixture
def ctx(tmp_path: Path) -> Context:
    return Context(storage=FolderStorage(tmp_path / "registry"), settings=ServerSettings(admins=("root",)))


def http_error(fn: object, *args: object) -> tuple[int, str]:
    assert callable(fn)
    with pytest.raises(HttpError) as e:
        fn(*args)
    return e.value.status, str(e.value.reason)


def set_permissions(ctx: Context, project: str, perms: Any) -> None:
    ctx.storage.put_bytes(permissions_key(project), json.dumps(perms).encode())


def test_a_request_is_identified_by_its_bearer_token(ctx: Context) -> None:
    token = create_token(ctx.storage, "alice")
    assert auth.identify(ctx, f"Bearer {token}") == "alice"
    assert http_error(auth.identify, ctx, None) == (401, "no user identity supplied")
    assert http_error(auth.identify, ctx, f"bearer {token}") == (401, "no user identity supplied")
    assert http_error(auth.identify, ctx, "Bearer ") == (401, "failed to query user identity: unknown or revoked token")
    assert http_error(auth.identify, ctx, "Bearer sel_nope")[0] == 401
    ctx.storage.state_put(token_name("sel_broken"), b"{not json")
    assert http_error(auth.identify, ctx, "Bearer sel_broken") == (500, "corrupt token record")


def test_admins_are_named_at_start(ctx: Context) -> None:
    root, alice = create_token(ctx.storage, "root"), create_token(ctx.storage, "alice")
    assert auth.require_admin(ctx, f"Bearer {root}") == "root"
    assert http_error(auth.require_admin, ctx, f"Bearer {alice}") == (403, "user is not an administrator")


def test_management_needs_an_owner_or_an_admin(ctx: Context) -> None:
    assert http_error(auth.check_management, ctx, "p", "alice") == (400, "no existing permissions for project 'p'")
    set_permissions(ctx, "p", {"owners": ["alice"], "uploaders": []})
    assert auth.check_management(ctx, "p", "alice")["owners"] == ["alice"]
    assert auth.check_management(ctx, "p", "root")["owners"] == ["alice"]
    assert http_error(auth.check_management, ctx, "p", "bob") == (403, "user is not an owner of project 'p'")
    set_permissions(ctx, "q", {"owners": "alice"})  # malformed owners: nobody but admins
    assert http_error(auth.check_management, ctx, "q", "alice")[0] == 403
    set_permissions(ctx, "r", ["not", "an", "object"])
    assert auth.load_permissions(ctx, "r") is None


@pytest.mark.parametrize("uploaders, user, asset, version, answer", [
    ([{"id": "bob", "trusted": True}], "bob", "a", "v1", (False, True)),
    ([{"id": "bob"}], "bob", "a", "v1", (False, False)),
    ([{"id": "bob", "asset": "a", "version": "v1", "until": FUTURE}], "bob", "a", "v1", (False, False)),
    ([{"id": "bob", "trusted": "yes"}], "bob", "a", "v1", (False, False)),  # only true trusts
    (["junk", {"id": "carol"}, {"id": "bob"}], "bob", "a", "v1", (False, False)),
    ([], "alice", "a", "v1", (True, True)),  # an owner
    ([], "root", "a", "v1", (True, True)),  # an admin
])
def test_who_may_upload(ctx: Context, uploaders: list[Any], user: str, asset: str, version: str,
                        answer: tuple[bool, bool]) -> None:
    set_permissions(ctx, "p", {"owners": ["alice"], "uploaders": uploaders})
    assert auth.check_upload(ctx, "p", asset, version, user) == answer


@pytest.mark.parametrize("uploaders", [
    [],
    [{"id": "bob", "asset": "other"}],
    [{"id": "bob", "version": "v2"}],
    [{"id": "bob", "until": PAST}],
    [{"id": "bob", "until": "tomorrow"}],
    # Quirk #3: only the first entry naming the user counts, even when a later one would allow it.
    [{"id": "bob", "asset": "other"}, {"id": "bob"}],
    "not a list",
])
def test_who_may_not_upload(ctx: Context, uploaders: Any) -> None:
    set_permissions(ctx, "p", {"owners": ["alice"], "uploaders": uploaders})
    assert http_error(auth.check_upload, ctx, "p", "a", "v1", "bob") == (403, "user is not authorized to upload")


def test_upload_to_a_project_without_permissions(ctx: Context) -> None:
    assert http_error(auth.check_upload, ctx, "p", "a", "v1", "bob")[0] == 400


@pytest.mark.parametrize("body, reason", [
    ([], "expected permissions to be a JSON object"),
    ({"owners": "alice"}, "expected 'owners' to be an array"),
    ({"owners": ["alice", 3]}, "expected 'owners' to be an array of strings"),
    ({"uploaders": {}}, "expected 'uploaders' to be an array"),
    ({"uploaders": ["bob"]}, "expected 'uploaders' to be an array of objects"),
    ({"uploaders": [{"id": 3}]}, "expected 'uploaders.id' property to be a string"),
    ({"uploaders": [{"id": "b", "until": "2020-13"}]}, "expected 'uploaders.until' property to be a date/time"),
    ({"uploaders": [{"id": "b", "until": 5}]}, "expected 'uploaders.until' property to be a date/time"),
    ({"uploaders": [{"id": "b", "trusted": 1}]}, "expected 'uploaders.trusted' property to be a boolean"),
    ({"uploaders": [{"id": "b", "asset": 1}]}, "expected 'asset' property to be a string"),
    ({"uploaders": [{"id": "b", "version": 1}]}, "expected 'version' property to be a string"),
])
def test_permission_bodies_are_validated(body: object, reason: str) -> None:
    status, why = http_error(auth.validate_permissions, body)
    assert status == 400 and why.startswith(reason)


def test_a_full_permission_body_is_fine() -> None:
    auth.validate_permissions({"owners": ["a"], "uploaders": [
        {"id": "b", "until": FUTURE, "trusted": False, "asset": "x", "version": "y"}]})
    auth.validate_permissions({})


@pytest.mark.parametrize("body, reason", [
    ([1], "expected quota specification to be a JSON object"),
    ({"baseline": "1"}, "expected 'baseline' to be a number"),
    ({"growth_rate": True}, "expected 'growth_rate' to be a number"),
    ({"year": -1}, "expected 'year' to be a non-negative number"),
])
def test_quota_bodies_are_validated(body: object, reason: str) -> None:
    assert http_error(auth.validate_quota, body) == (400, reason)
    auth.validate_quota({"baseline": 1, "growth_rate": 0.5, "year": 2024})
