"""tree.selection: the glob rule of pattern clones, and the selection a tree records in git config."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from selenite import gitrepo
from selenite.errors import FatalError
from selenite.tree.selection import Selection, is_glob, record, selected

PATHS = ["a.tsv", "counts/a.tsv", "counts/x/b.tsv", "counts/a.csv", "d1/f", "d1/sub/g", "d2/d1/h", ".hidden",
         "x/.tsv", "lit[1]/a", "q?/b"]


def _matches(*includes: str, excludes: tuple[str, ...] = ()) -> list[str]:
    s = Selection(tuple(includes), excludes)
    return [p for p in PATHS if s(p)]


@pytest.mark.parametrize(("pattern", "expected"), [
    ("*.tsv", ["a.tsv", "counts/a.tsv", "counts/x/b.tsv", "x/.tsv"]),  # no '/': the name at any depth
    ("/*.tsv", ["a.tsv"]),  # a leading '/' anchors at the top
    ("counts/*.tsv", ["counts/a.tsv"]),  # '*' stays within one segment
    ("counts/**", ["counts/a.tsv", "counts/x/b.tsv", "counts/a.csv"]),
    ("counts/**/*.tsv", ["counts/a.tsv", "counts/x/b.tsv"]),  # '**/' is zero or more segments
    ("**/f", ["d1/f"]),
    ("d1/*", ["d1/f"]),  # not d1/sub/g: a segment, not a folder prefix
    ("d1/", ["d1/f", "d1/sub/g", "d2/d1/h"]),  # a trailing '/': everything below, a bare name at any depth
    ("d1", []),  # names a folder, not a file: matches no file
    ("d?/f", ["d1/f"]),
    ("c**s/a.*", ["counts/a.tsv", "counts/a.csv"]),  # '**' inside a segment is a '*'
    ("*", PATHS),
    ("**", PATHS),
    ("lit[1]/a", ["lit[1]/a"]),  # brackets are literal
    ("q?/b", ["q?/b"]),
])
def test_glob_rule(pattern: str, expected: list[str]) -> None:
    assert _matches(pattern) == expected


def test_include_and_exclude_combined() -> None:
    assert _matches("counts/**", "d1/*", excludes=("*.csv", "x/")) == ["counts/a.tsv", "d1/f"]
    assert _matches(excludes=("counts/**", "d?/**")) == ["a.tsv", ".hidden", "x/.tsv", "lit[1]/a", "q?/b"]
    everything = Selection()
    assert everything.everything and all(everything(p) for p in PATHS)
    assert not Selection(("x",)).everything
    assert Selection(("d1/*",), ("*.csv",)).describe() == "--include 'd1/*' --exclude '*.csv'"
    assert is_glob("counts/*.tsv") and is_glob("a?") and not is_glob("counts/a.tsv")


@pytest.mark.parametrize("bad", ["", "/", "a//b", "./a", "a/../b", "a\nb"])
def test_patterns_that_can_match_nothing_are_refused(bad: str) -> None:
    with pytest.raises(FatalError, match="--exclude"):
        Selection((), (bad,))


def test_recorded_in_git_config(tmp_path: Path) -> None:
    root = tmp_path / "r"
    root.mkdir()
    gitrepo.init(root)
    assert selected(root).everything  # nothing recorded: everything
    record(root, Selection(("d1/*", "-odd"), ("*.csv",)))
    s = selected(root)
    assert s.includes == ("d1/*", "-odd") and s.excludes == ("*.csv",)  # a value starting with '-' stays a value
    record(root, Selection(("counts/",)))
    assert selected(root) == Selection(("counts/",))  # replaced, not added to
    subprocess.run(["git", "config", "--add", "selenite.exclude", "a//b"], cwd=root, check=True)
    with pytest.raises(FatalError, match=r"git config --unset-all selenite\.exclude"):
        selected(root)
