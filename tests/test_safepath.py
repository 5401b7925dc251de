"""The one check for paths from outside (safepath), the record's folder, and escaped output."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from selenite import safepath
from selenite.errors import UnsafePath
from selenite.keys import Key
from selenite.output import printable
from selenite.tree import records
from selenite.tree.modes import COPY


@pytest.mark.parametrize("name", [".git", ".GIT", ".gIt", ".git.", ".git ", ".git. .", "git~1", "GIT~1",
                                  ".g\u200cit", "\ufeff.git", ".git\u200d"])
def test_every_spelling_of_gits_folder(name: str) -> None:
    assert safepath.is_git_name(name)
    assert safepath.problem(f"a/{name}/config") is not None


@pytest.mark.parametrize("ok", ["a.txt", "d/e/f.csv", ".gitignore", ".github/x.yml", "git", ".gitx", "my.git",
                                "git~2", "L" * 255, "\u6570" * 85, "sp ace/x", "-rf", "~", "a..b"])
def test_ordinary_names_pass(ok: str) -> None:
    assert safepath.problem(ok) is None


@pytest.mark.parametrize("bad", ["", "/abs", "C:x", "a\\b", "a//b", "./a", "a/.", "a/..", "..x/y", "a\x00",
                                 "a\x1b", "a\x7f", "a\x85", "a\n", "L" * 256, "\u6570" * 86, "d/" * 1025 + "x",
                                 "\ud800"])
def test_hostile_names_are_refused(bad: str) -> None:
    assert safepath.problem(bad) is not None
    with pytest.raises(UnsafePath):
        safepath.check(bad, "the version lists")


def test_a_file_and_a_folder_of_the_same_name() -> None:
    safepath.check_listing(["a", "b/c", "bc"], "v")
    with pytest.raises(UnsafePath, match="lists both 'b' and 'b/c'"):
        safepath.check_listing(["b", "b/c"], "v")


def test_parent_refuses_a_symlinked_folder(tmp_path: Path) -> None:
    root, away = tmp_path / "t", tmp_path / "away"
    root.mkdir()
    away.mkdir()
    os.symlink(away, root / "escape")
    with pytest.raises(UnsafePath, match="'escape' is a symlink"):
        safepath.parent(root, "escape/authorized_keys")
    (root / "file").write_text("x")
    with pytest.raises(UnsafePath, match="not a folder"):
        safepath.parent(root, "file/x")
    assert safepath.parent(root, "new/deep/x.txt") == root / "new" / "deep" / "x.txt"
    assert (root / "new" / "deep").is_dir()
    assert safepath.parent(root, "absent/x", create=False) == root / "absent" / "x"
    assert not (root / "absent").exists()
    assert len(safepath.temp_beside(root / ("L" * 255)).name) < 32


def test_a_symlinked_record_folder_is_no_record(tmp_path: Path) -> None:
    other, root = tmp_path / "other", tmp_path / "t"
    (other / ".selenite").mkdir(parents=True)
    records.write_record(other, COPY, {"a": Key("0" * 32, 0)})
    root.mkdir()
    os.symlink(other / ".selenite", root / ".selenite")
    assert records.has_record(other) and not records.has_record(root)
    assert records.read_record(root) is None
    with pytest.raises(UnsafePath):
        records.write_record(root, COPY, {})


def test_printable_escapes_what_a_terminal_acts_on() -> None:
    assert printable("plain name.csv") == "plain name.csv"
    assert printable("\u00e9t\u00e9 \u6570") == "\u00e9t\u00e9 \u6570"
    assert printable("a\x1b[2Kb\rc\td\x85e\u202ef\u200bg") == "a\\x1b[2Kb\\x0dc\\x09d\\x85e\\u202ef\\u200bg"
