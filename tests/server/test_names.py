"""server.names: decoding URL components and the rules for project, asset, version and file names."""

from __future__ import annotations

import pytest

from selenite.names import new_name_problem
from selenite.server.errors import HttpError
from selenite.server.names import (
    check_name,
    collision_problem,
    decode_component,
    file_path_problem,
    is_dot_git,
    names,
)


def refusal(fn: object, *args: str) -> str:
    assert callable(fn)
    with pytest.raises(HttpError) as e:
        fn(*args)
    assert e.value.status == 400
    return str(e.value.reason)


def test_components_are_decoded_like_decode_uri_component() -> None:
    assert decode_component("a%20b+c%2Fd%C3%A9") == "a b+c/d\u00e9"  # '+' stays '+'
    assert refusal(decode_component, "bad%2") == "URI malformed"
    assert refusal(decode_component, "%zz") == "URI malformed"
    assert refusal(decode_component, "%C3%28") == "URI malformed"  # not UTF-8


@pytest.mark.parametrize("name, reason", [
    ("", "project name cannot be empty"),
    ("a/b", "project name cannot contain '/' or '\\'"),
    ("a\\b", "project name cannot contain '/' or '\\'"),
    ("..x", "project name cannot start with '..'"),
    (".", "project name cannot be '.' or contain NUL"),
    ("a\x00", "project name cannot be '.' or contain NUL"),
    ("\u00e9" * 128, "project name cannot be longer than 255 bytes"),
])
def test_names_every_storage_can_hold(name: str, reason: str) -> None:
    assert refusal(check_name, "project", name) == reason


def test_route_parameters_are_decoded_then_checked() -> None:
    assert names("p%20q") == ("p q",)
    assert names("p", "a", "v%2B1") == ("p", "a", "v+1")
    assert refusal(names, "p", "%2E%2E") == "asset name cannot start with '..'"
    assert refusal(names, "p", "a", "") == "version name cannot be empty"


@pytest.mark.parametrize("name, reason", [
    ("v\x1b1", "control characters"),
    ("-rf", "cannot start with '-'"),
    (".v", "start or end with '.'"),
    ("v.", "start or end with '.'"),
    ("v.lock", "end with '.lock'"),
    ("v..1", "cannot contain '..' or '@{'"),
    ("v@{1}", "cannot contain '..' or '@{'"),
    ("v 1", "spaces or any of"),
    ("v~1", "spaces or any of"),
    ("@", "cannot be '@' or a Git name"),
    ("HEAD", "cannot be '@' or a Git name"),
    ("FETCH_HEAD", "cannot be '@' or a Git name"),
    ("v\u200b1", "invisible characters"),
    ("v\u202e1", "invisible characters"),
])
def test_new_asset_and_version_names_must_be_git_tags(name: str, reason: str) -> None:
    problem = new_name_problem("version", name)
    assert problem is not None and problem.startswith("version name") and reason in problem


@pytest.mark.parametrize("name", ["v1", "2024-01-01", "release_1.2", "\u00e9t\u00e9", "v+1", "HEADS"])
def test_ordinary_new_names_are_fine(name: str) -> None:
    assert new_name_problem("version", name) is None


@pytest.mark.parametrize("component", [".git", ".GIT", ".git.", ".git ", ".git::$INDEX_ALLOCATION", "git~1",
                                       "GIT~4", ".g\u200cit", "\ufeff.git"])
def test_every_spelling_of_dot_git(component: str) -> None:
    assert is_dot_git(component)


@pytest.mark.parametrize("component", ["git", ".gitx", "git~5", ".github", "x.git"])
def test_names_that_only_look_like_dot_git(component: str) -> None:
    assert not is_dot_git(component)


@pytest.mark.parametrize("path, reason", [
    (3, "'files.path' should be a string"),
    ("", "'files.path' cannot be empty"),
    ("a/..b", "components of 'files.path' cannot start with '..'"),
    ("/a", "'files.path' cannot start or end with '/'"),
    ("a/", "'files.path' cannot start or end with '/'"),
    ("a//b", "'files.path' cannot contain repeated '/'"),
    ("a\\b", "'files.path' cannot contain '\\'"),
    ("a/./b", "'files.path' cannot contain '.' components or NUL"),
    ("a\x00", "'files.path' cannot contain '.' components or NUL"),
    ("a/" + "x" * 256, "components of 'files.path' cannot be longer than 255 bytes"),
    ("a\tb", "'files.path' cannot contain control characters"),
    ("d/.Git/config", "'files.path' cannot have a '.git' component (in any case or spelling)"),
])
def test_file_paths(path: object, reason: str) -> None:
    assert file_path_problem(path) == reason


def test_a_fine_file_path() -> None:
    assert file_path_problem("data/\u00e9t\u00e9 2024/x+y.csv") is None


def test_a_manifest_cannot_hold_a_file_and_a_folder_of_one_name_nor_two_spellings_of_a_space() -> None:
    assert collision_problem(["a", "b/c", "d"]) is None
    assert collision_problem(["a", "a/b"]) == "'files.path' holds both 'a' and 'a/b' (a file cannot also be a folder)"
    problem = collision_problem(["x y.txt", "x+y.txt"])
    assert problem is not None and "'x y.txt' and 'x+y.txt'" in problem and "as '+'" in problem
