"""The check of a whole tree (``selenite.check.tree``), through real commits with the hook installed."""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from selenite.cache import Cache
from selenite.check.tree import check_tree
from selenite.commands import check as check_cmd
from selenite.hook.install import install
from selenite.keys import Key, try_parse_key
from tests.check.trees import commit, git, link_text, settings, write_through


def test_clean_tree_passes_and_commits(tree: tuple[Path, Cache]) -> None:
    top, _ = tree
    assert check_tree(top, settings().cache_dir) == []
    assert commit(top, "nothing", "--allow-empty").returncode == 0


def test_edit_through_link_is_invisible_to_git_but_refused(tree: tuple[Path, Cache]) -> None:
    top, _cache = tree
    write_through(top / "data" / "b.txt", b"HELLO\n")  # same size: only the hash can tell
    assert git(top, "status", "--porcelain").stdout == ""  # Git sees nothing
    (top / "notes.txt").write_text("new file\n")
    git(top, "add", "notes.txt")
    proc = commit(top)
    assert proc.returncode == 1
    assert "data/b.txt" in proc.stderr and "no longer matches" in proc.stderr
    assert "selenite fsck --repair" in proc.stderr
    assert "a.csv" not in proc.stderr  # only the damaged path is named
    assert git(top, "rev-list", "--count", "HEAD").stdout.strip() == "1"


def test_touched_but_intact_object_passes_and_is_re_signed(tree: tuple[Path, Cache]) -> None:
    top, cache = tree
    obj = (top / "a.csv").resolve()
    os.utime(obj, ns=(1, 1))
    key = next(k for k in cache.signatures() if k.endswith(".csv"))
    assert cache.signatures()[key].mtime_ns != 1
    assert check_tree(top, settings().cache_dir) == []
    assert cache.signatures()[key].mtime_ns == 1  # re-hashed once, then trusted again


def test_allowed_changes_commit(tree: tuple[Path, Cache]) -> None:
    top, _ = tree
    # a link replaced by an edited real file (how users edit; `selenite unlock` does this)
    (top / "a.csv").unlink()
    (top / "a.csv").write_text("x,y\n3,4\n")
    (top / "new.txt").write_text("brand new\n")  # a new file
    git(top, "rm", "-q", "data/c.bin")  # a deleted file
    # a moved link, with its text adjusted to its new folder
    text = link_text(top, "moved/deeper/b.txt", try_parse_key(os.path.basename(os.readlink(top / "data/b.txt"))))
    (top / "data/b.txt").unlink()
    (top / "moved/deeper").mkdir(parents=True)
    (top / "moved/deeper/b.txt").symlink_to(text)
    (top / "rel.txt").symlink_to("new.txt")  # an ordinary in-tree link
    git(top, "add", "-A")
    proc = commit(top)
    assert proc.returncode == 0, proc.stderr


def test_commit_all_with_unstaged_edit_passes(tree: tuple[Path, Cache]) -> None:
    top, _ = tree
    (top / "a.csv").unlink()
    (top / "a.csv").write_text("edited\n")
    assert commit(top, "edit", "-a").returncode == 0


@pytest.mark.parametrize("target", ["/etc/hostname", "../../outside.txt", ".git/config",
                                    ".git/selenite/objects/zz/not-a-key"])
def test_link_retargeted_outside_the_cache_is_refused(tree: tuple[Path, Cache], target: str) -> None:
    top, _ = tree
    (top / "a.csv").unlink()
    (top / "a.csv").symlink_to(target)
    git(top, "add", "a.csv")
    proc = commit(top)
    assert proc.returncode == 1
    assert "a.csv:" in proc.stderr and target.rsplit("/", maxsplit=1)[-1] in proc.stderr
    assert "git checkout HEAD -- PATH" in proc.stderr


def test_absolute_link_into_the_cache_is_refused(tree: tuple[Path, Cache]) -> None:
    top, _ = tree
    real = (top / "a.csv").resolve()
    (top / "new.csv").symlink_to(real)
    git(top, "add", "new.csv")
    proc = commit(top)
    assert proc.returncode == 1 and "new.csv: absolute link" in proc.stderr


def test_link_escaping_through_the_anchor_is_refused(tree: tuple[Path, Cache]) -> None:
    top, _ = tree
    (top / "esc").symlink_to(".git/selenite/objects/../../../../etc/passwd")
    git(top, "add", "esc")
    assert commit(top).returncode == 1


@pytest.mark.parametrize("how", ["unstaged", "staged", "commit-a", "newline"])
def test_destroyed_link_is_refused(tree: tuple[Path, Cache], how: str) -> None:
    top, _ = tree
    link = top / "data" / "b.txt"
    text = os.readlink(link)
    link.unlink()
    link.write_text(text + ("\n" if how == "newline" else ""))
    if how == "staged":
        git(top, "add", "data/b.txt")
    proc = commit(top, "x", "-a") if how in ("commit-a", "newline") else commit(top, "x", "--allow-empty")
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "data/b.txt:" in proc.stderr and "text of a link" in proc.stderr


def test_new_file_holding_a_cache_link_text_is_refused(tree: tuple[Path, Cache]) -> None:
    top, _ = tree
    text = os.readlink(top / "a.csv")
    (top / "copy.csv").write_text(text)  # e.g. an archive tool that stored the link as text
    git(top, "add", "copy.csv")
    proc = commit(top)
    assert proc.returncode == 1 and "copy.csv:" in proc.stderr


def test_small_real_file_that_is_not_link_text_passes(tree: tuple[Path, Cache]) -> None:
    top, _ = tree
    (top / "a.csv").unlink()
    (top / "a.csv").write_text("../x\n")  # short, but not the link's text
    assert commit(top, "x", "-a").returncode == 0


def test_dangling_links_pass_when_the_registry_holds_the_key(tree: tuple[Path, Cache]) -> None:
    top, cache = tree
    key = try_parse_key(os.path.basename(os.readlink(top / "data/b.txt")))
    assert key is not None
    cache.remove(key)  # like `selenite drop` or a lazy clone: the link dangles
    assert not (top / "data/b.txt").exists()
    assert check_tree(top, settings().cache_dir) == []


def test_dangling_link_to_an_unknown_key_is_refused(tree: tuple[Path, Cache]) -> None:
    top, _ = tree
    fake = Key("0" * 32, 5, ".txt")
    (top / "ghost.txt").symlink_to(link_text(top, "ghost.txt", fake))
    git(top, "add", "ghost.txt")
    proc = commit(top)
    assert proc.returncode == 1
    assert "ghost.txt:" in proc.stderr and "neither in the cache nor" in proc.stderr


def test_untracked_links_are_checked_too(tree: tuple[Path, Cache]) -> None:
    top, _ = tree
    shutil.copy(top / "a.csv", top / "unused.csv", follow_symlinks=False)  # an untracked link
    write_through(top / "unused.csv", b"broken")
    problems = check_tree(top, settings().cache_dir)
    assert {p.path for p in problems} == {"a.csv", "unused.csv"}
    assert {p.kind for p in problems} == {"corrupted"}


def test_check_command_exit_codes(tree: tuple[Path, Cache], capsys: pytest.CaptureFixture[str]) -> None:
    top, _ = tree
    assert check_cmd.check(settings(top)) == 0
    write_through(top / "a.csv", b"zzz")
    assert check_cmd.check(settings(top)) == 1
    err = capsys.readouterr().err
    assert "a.csv:" in err and "check failed" in err


def test_check_runs_from_a_subfolder_through_the_cli(tree: tuple[Path, Cache]) -> None:
    top, _ = tree
    run = [sys.executable, "-m", "selenite", "check"]
    assert subprocess.run(run, cwd=top / "data", capture_output=True).returncode == 0
    write_through(top / "data/c.bin", b"\x01" * 100)
    proc = subprocess.run(run, cwd=top / "data", capture_output=True, text=True)
    assert proc.returncode == 1 and "data/c.bin:" in proc.stderr and "Traceback" not in proc.stderr


def test_check_outside_a_repository_is_one_line(tmp_path: Path) -> None:
    proc = subprocess.run([sys.executable, "-m", "selenite", "check"], cwd=tmp_path, capture_output=True, text=True)
    assert proc.returncode == 1
    assert proc.stderr.strip().count("\n") == 0 and "not inside a git working tree" in proc.stderr


def test_first_commit_of_a_tree_is_checked(tmp_path: Path) -> None:
    top = tmp_path / "fresh"
    top.mkdir()
    git(top, "init", "-q")
    install(top)
    (top / "a.txt").write_text("a\n")
    git(top, "add", "a.txt")
    assert commit(top, "first").returncode == 0


def test_cache_stat_of_objects_is_read_only_after_a_clean_check(tree: tuple[Path, Cache]) -> None:
    top, _ = tree
    obj = (top / "a.csv").resolve()
    check_tree(top, settings().cache_dir)
    assert stat.S_IMODE(os.stat(obj).st_mode) == 0o444  # the check changes nothing it reads
