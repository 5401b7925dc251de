"""Judging one path by its link text or its bytes (``selenite.check.classify``)."""

from __future__ import annotations

from pathlib import Path

import pytest

from selenite.check.classify import destroyed, link_key
from selenite.check.problems import ProblemKind
from selenite.keys import Key
from selenite.tree.links import link_text

KEY = Key("0123456789abcdef" * 2, 5, ".csv")


def test_a_link_through_the_anchor_at_its_own_depth_names_its_key() -> None:
    assert link_key("d/x.csv", link_text("d/x.csv", KEY)) == (KEY, None)


def test_a_link_at_another_depth_is_moved() -> None:
    key, problem = link_key("x.csv", link_text("d/e/x.csv", KEY))
    assert key is None and problem is not None and problem.kind == ProblemKind.MOVED


@pytest.mark.parametrize(("text", "why"), [
    ("/etc/hostname", "absolute link"),
    ("../../outside.txt", "leaves the working tree"),
    (".git/config", "into the repository's .git folder"),
    (".git/selenite/objects/zz/not-a-key", "names no object"),
])
def test_links_that_must_not_be_committed(text: str, why: str) -> None:
    key, problem = link_key("x.csv", text)
    assert key is None and problem is not None and problem.kind == ProblemKind.OUTSIDE and why in problem.detail


def test_an_ordinary_in_tree_link_is_allowed() -> None:
    assert link_key("latest.csv", "v2/data.csv") == (None, None)


def test_a_file_holding_a_link_text_is_a_destroyed_link(tmp_path: Path) -> None:
    copied = tmp_path / "x.csv"
    copied.write_text(link_text("x.csv", KEY) + "\n")
    problem = destroyed(str(copied), "x.csv", None, None)
    assert problem is not None and problem.kind == ProblemKind.DESTROYED
    copied.write_text("x,y\n1,2\n")
    assert destroyed(str(copied), "x.csv", None, None) is None
