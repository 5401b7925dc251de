"""What the check tells the user, and its fix of moved links (``selenite.check.report``)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from selenite.cache import Cache
from selenite.check.problems import Problem, ProblemKind
from selenite.check.report import fix_moved_links, report
from selenite.check.tree import check_tree
from tests.check.trees import git, settings


def _move_a_link(top: Path, stage: bool) -> str:
    """Move data/b.txt one folder deeper (its text no longer reaches the anchor)."""
    (top / "up/deep").mkdir(parents=True)
    if stage:
        git(top, "mv", "data/b.txt", "up/deep/b.txt")
    else:
        os.rename(top / "data/b.txt", top / "up/deep/b.txt")
    return os.readlink(top / "up/deep/b.txt")


@pytest.mark.parametrize("untracked_too", [False, True], ids=["hook", "check --fix"])
def test_an_untracked_moved_link_is_never_staged(tree: tuple[Path, Cache], untracked_too: bool,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    top, _ = tree
    old = _move_a_link(top, stage=False)
    problems = check_tree(top, settings().cache_dir)
    assert [(p.path, p.kind) for p in problems] == [("up/deep/b.txt", ProblemKind.MOVED)]
    assert fix_moved_links(top, problems, untracked_too=untracked_too) == []
    assert git(top, "diff", "--cached", "--name-only").stdout == ""  # nothing staged (bug C1)
    fixed = os.readlink(top / "up/deep/b.txt")
    assert (fixed != old) == untracked_too
    assert ("not staged" if untracked_too else "left as they are") in capsys.readouterr().err


def test_a_staged_moved_link_is_rewritten_and_staged(tree: tuple[Path, Cache]) -> None:
    top, _ = tree
    _move_a_link(top, stage=True)
    problems = check_tree(top, settings().cache_dir)
    fix_moved_links(top, problems, untracked_too=False)
    assert check_tree(top, settings().cache_dir) == []
    assert git(top, "diff", "--cached", "--name-only").stdout.split() == ["data/b.txt", "up/deep/b.txt"]
    assert (top / "up/deep/b.txt").read_bytes() == b"hello\n"


def test_report_names_each_path_and_each_fix_once(capsys: pytest.CaptureFixture[str]) -> None:
    problems = [Problem("a", ProblemKind.CORRUPTED, "bad"), Problem("b", ProblemKind.CORRUPTED, "bad too")]
    report(problems, "commit refused")
    err = capsys.readouterr().err.splitlines()
    assert err[0] == "selenite: commit refused: 2 problems in the working tree"
    assert err[1:3] == ["  a: bad", "  b: bad too"]
    assert err[3] == "To fix without losing anything:" and len(err) == 5 and "fsck --repair" in err[4]
