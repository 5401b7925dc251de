"""One rule set for project, asset and version names, on both sides of the wire."""

from __future__ import annotations

import pytest

from selenite import names, pushplan
from selenite.errors import FatalError

# Names the registry refuses for a new version, which the client once planned and then had
# refused by upload start with a 400 (structure review C9), next to ones it always refused.
REFUSED = [".", "a\x00b", "x" * 256, "", "..v", "a/b", "a\\b", "-v", "v 1", "x.lock", "HEAD", "v\u200b1"]


@pytest.mark.parametrize("name", REFUSED)
def test_push_refuses_before_publishing_every_version_name_the_registry_refuses(name: str) -> None:
    assert (names.name_problem("version", name) or names.new_name_problem("version", name)) is not None
    with pytest.raises(FatalError, match="pick another name with --version"):
        pushplan.check_version_name(name)


@pytest.mark.parametrize("name", ["v1", "release-2", "2024.01", "é" * 127])
def test_ordinary_names_pass(name: str) -> None:
    assert names.name_problem("version", name) is None
    assert names.new_name_problem("version", name) is None
    pushplan.check_version_name(name)


def test_messages_name_the_kind() -> None:
    assert names.name_problem("asset", "") == "asset name cannot be empty"
    assert names.new_name_problem("project", "-x") == "project name cannot start with '-'"
