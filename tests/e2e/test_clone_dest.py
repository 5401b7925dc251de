"""`selenite clone` and the folder it clones into: what it refuses, what it redoes (a folder a killed
clone left) and what it leaves alone (a finished clone of the same source). The CLI runs in this
process against the hostile test registry (quick, and every path is measured in process)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from selenite.api.clone import parse_source
from selenite.errors import FatalError
from tests.support.cli import selenite_in_process
from tests.support.evilreg import EvilRegistry
from tests.support.files import tree_files

FILES = {"a.txt": b"alpha\n", "d/b.csv": b"x,y\n"}


@pytest.fixture
def reg(evilreg: EvilRegistry) -> EvilRegistry:
    evilreg.add_version("p", "a", "v1", FILES)
    return evilreg


def clone(reg: EvilRegistry, dest: Path, *extra: str, source: str = "p/a@v1") -> tuple[int, str]:
    return selenite_in_process("clone", "--url", reg.url, source, str(dest), *extra, cwd=dest.parent)


@pytest.mark.parametrize("source, parsed", [
    ("p/a", ("p", "a", None)), ("p/a@v1", ("p", "a", "v1")), ("p/a/v1", ("p", "a", "v1")), ("/p/a/", ("p", "a", None)),
])
def test_sources(source: str, parsed: tuple[str, str, str | None]) -> None:
    assert parse_source(source) == parsed


@pytest.mark.parametrize("source, reason", [
    ("p", "expected PROJECT/ASSET"), ("p/a/v/x", "expected PROJECT/ASSET"), ("p/a@", "expected PROJECT/ASSET"),
    ("p//a", "expected PROJECT/ASSET"), ("p/..a", "asset name '..a' is not valid"),
    ("p/a@..", "version name '..' is not valid"),
])
def test_malformed_sources(source: str, reason: str) -> None:
    with pytest.raises(FatalError, match=reason):
        parse_source(source)


def test_a_file_or_a_folder_of_the_users_is_refused_and_left_alone(reg: EvilRegistry, tmp_path: Path) -> None:
    (tmp_path / "file").write_text("mine\n")
    code, err = clone(reg, tmp_path / "file")
    assert code == 1 and "exists and is not a folder" in err
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "notes.txt").write_text("mine\n")
    code, err = clone(reg, tmp_path / "full")
    assert code == 1 and "exists and is not empty (nothing was changed" in err
    assert os.listdir(tmp_path / "full") == ["notes.txt"]
    (tmp_path / "repo" / ".git" / "objects").mkdir(parents=True)  # a repository that is not a clone's
    (tmp_path / "repo" / ".git" / "HEAD").write_text("ref: refs/heads/main\n")
    code, err = clone(reg, tmp_path / "repo")
    assert code == 1 and "is not empty" in err


def test_an_empty_folder_is_cloned_into(reg: EvilRegistry, tmp_path: Path) -> None:
    (tmp_path / "t").mkdir()
    assert clone(reg, tmp_path / "t") == (0, clone_note(tmp_path / "t"))
    assert tree_files(tmp_path / "t") == FILES


def clone_note(dest: Path) -> str:
    return f"cloned p/a@v1 into {dest} (2 file(s), 10 B)\n"


def test_a_folder_a_killed_clone_left_is_cloned_again(reg: EvilRegistry, tmp_path: Path) -> None:
    dest = tmp_path / "t"
    (dest / ".git" / "selenite").mkdir(parents=True)
    (dest / ".git" / "selenite" / "clone-incomplete").write_bytes(b"")
    (dest / ".git" / "objects" / "ab").mkdir(parents=True)
    (dest / "d").mkdir()
    (dest / "d" / "stale-link").symlink_to("../nowhere")
    code, err = clone(reg, dest)
    assert code == 0, err
    assert "holds an interrupted clone: starting it again" in err
    assert tree_files(dest) == FILES and not (dest / "d" / "stale-link").is_symlink()
    assert not (dest / ".git" / "selenite" / "clone-incomplete").exists()


def test_a_folder_killed_before_its_marker_holds_only_empty_git_folders(reg: EvilRegistry, tmp_path: Path) -> None:
    dest = tmp_path / "t"
    (dest / ".git" / "refs" / "heads").mkdir(parents=True)
    assert clone(reg, dest)[0] == 0
    assert tree_files(dest) == FILES


def test_the_same_clone_again_changes_nothing_another_is_refused(reg: EvilRegistry, tmp_path: Path) -> None:
    dest = tmp_path / "t"
    assert clone(reg, dest)[0] == 0
    code, err = clone(reg, dest)
    assert code == 0 and "is already a clone of p/a@v1" in err
    reg.add_version("p", "a", "v2", {"c.txt": b"c\n"})
    code, err = clone(reg, dest, source="p/a@v2")
    assert code == 1 and "is not empty" in err
    assert tree_files(dest) == FILES
