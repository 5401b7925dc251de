"""server.tokens: tokens are stored as hashes only, listed by id, user and label, revoked by any."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from selenite.server.errors import SetupError
from selenite.server.storage.folder import FolderStorage
from selenite.server.tokens import (
    ID_LENGTH,
    check_label,
    check_user,
    create_token,
    list_tokens,
    revoke,
    token_name,
)


@pytest.fixture
def storage(tmp_path: Path) -> FolderStorage:
    return FolderStorage(tmp_path / "registry")


def test_only_the_hash_of_a_token_is_stored(storage: FolderStorage) -> None:
    token = create_token(storage, "alice")
    assert token.startswith("sel_") and len(token) > 40
    record = storage.state_get(token_name(token))
    assert record is not None and json.loads(record)["user"] == "alice"
    assert token.encode() not in record
    digest = hashlib.sha256(token.encode()).hexdigest()
    assert token_name(token) == f"tokens/{digest}"
    [info] = list_tokens(storage)
    assert (info.user, info.name, info.id) == ("alice", token_name(token), digest[:ID_LENGTH])


@pytest.mark.parametrize("user", ["", "-alice", ".x", "a b", "x" * 101, "\u00e9"])
def test_user_names_are_plain(user: str) -> None:
    with pytest.raises(SetupError, match="must be 1-100 letters, digits"):
        check_user(user)


def test_listing_filters_by_user_and_shows_unreadable_records_as_unknown(storage: FolderStorage) -> None:
    create_token(storage, "alice")
    create_token(storage, "bob")
    storage.state_put("tokens/" + "f" * 64, b"not json")
    storage.state_put("tokens/" + "e" * 64, b'{"user": "carol"}')  # an older record: no "created"
    assert [t.user for t in list_tokens(storage, "bob")] == ["bob"]
    everyone = list_tokens(storage)
    assert {(t.user, t.created) for t in everyone if t.created == "?"} == {("?", "?"), ("carol", "?")}
    assert sorted(t.user for t in everyone) == ["?", "alice", "bob", "carol"]


def test_revoke_by_id_or_by_user(storage: FolderStorage) -> None:
    a1, a2, b = create_token(storage, "alice"), create_token(storage, "alice"), create_token(storage, "bob")
    [bob] = list_tokens(storage, "bob")
    assert revoke(storage, bob.id) == [bob]
    assert storage.state_get(token_name(b)) is None
    assert {t.name for t in revoke(storage, "alice")} == {token_name(a1), token_name(a2)}
    assert list_tokens(storage) == []


def test_revoke_refuses_what_names_nothing_or_is_ambiguous(storage: FolderStorage) -> None:
    with pytest.raises(SetupError, match="no token has the id or label 'nobody'"):
        revoke(storage, "nobody")
    token = create_token(storage, "alice")
    [info] = list_tokens(storage)
    # A user named like another token's id: revoking by that string must not guess.
    storage.state_put("tokens/" + "0" * 64, json.dumps({"user": info.id, "created": "2020"}).encode())
    with pytest.raises(SetupError, match="both a token id and a user name; nothing revoked"):
        revoke(storage, info.id)
    assert storage.state_get(token_name(token)) is not None


def test_labels_are_listed_and_revoke_one_token(storage: FolderStorage) -> None:
    ci, laptop, plain = (create_token(storage, "alice", "ci"), create_token(storage, "alice", "laptop"),
                         create_token(storage, "alice"))
    assert sorted(str(t.label) for t in list_tokens(storage)) == ["None", "ci", "laptop"]
    [gone] = revoke(storage, "ci")
    assert gone.label == "ci" and storage.state_get(token_name(ci)) is None
    assert storage.state_get(token_name(laptop)) is not None and storage.state_get(token_name(plain)) is not None
    create_token(storage, "bob", "alice")  # a label that is also a user name: revoking by it must not guess
    with pytest.raises(SetupError, match="both a token label and a user name; nothing revoked"):
        revoke(storage, "alice")
    with pytest.raises(SetupError, match="token label 'a b' must be"):
        check_label("a b")
