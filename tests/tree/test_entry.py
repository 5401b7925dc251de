"""The scan vocabulary: statuses keep their printed values; selecting entries under the user's paths."""

from __future__ import annotations

from pathlib import Path

import pytest

from selenite.errors import FatalError
from selenite.tree.entry import Entry, PathStatus, select, status_of
from tests.tree.conftest import key_of


def test_status_values_are_what_status_json_prints() -> None:
    assert [s.value for s in PathStatus] == [
        "unchanged", "moved", "modified", "new", "deleted", "missing", "corrupted", "outside", "destroyed"]
    assert PathStatus.CONTENT_MISSING == "missing"  # a StrEnum: compares and formats as its value
    assert f"{PathStatus.OBJECT_CORRUPTED}" == "corrupted"


def test_status_of_a_link_against_the_last_version() -> None:
    a, b = key_of(b"a"), key_of(b"b")
    assert status_of(a, a, {a}) == PathStatus.UNCHANGED
    assert status_of(a, b, {a, b}) == PathStatus.MODIFIED
    assert status_of(a, None, {a}) == PathStatus.MOVED
    assert status_of(a, None, {b}) == PathStatus.NEW


def test_select_under_paths(tmp_path: Path) -> None:
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "x").write_text("x")
    entries = [Entry("d/x", PathStatus.NEW), Entry("dx", PathStatus.NEW), Entry("e/y", PathStatus.DELETED)]
    assert select(entries, tmp_path, [], tmp_path) == entries
    assert select(entries, tmp_path, [Path("d")], tmp_path) == entries[:1]
    assert select(entries, tmp_path, [Path("x")], tmp_path / "d") == entries[:1]  # relative to cwd
    assert select(entries, tmp_path, [Path("e")], tmp_path) == entries[2:]  # gone from disk, still an entry
    assert select(entries, tmp_path, [Path(".")], tmp_path) == entries
    with pytest.raises(FatalError, match="no such file"):
        select(entries, tmp_path, [Path("typo")], tmp_path)
    with pytest.raises(FatalError, match="outside the working tree"):
        select(entries, tmp_path, [Path("..")], tmp_path)
