"""The check stamp (``selenite.tree.stamp``): the fast path for unchanged trees."""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

import pytest

from selenite.cache import Cache
from selenite.check import objects
from selenite.check.tree import check_tree
from selenite.tree import stamp as stamp_module
from selenite.tree.stamp import index_links
from tests.check.trees import commit, git, make_tree, settings, write_through


@pytest.mark.parametrize("forked", [False, True], ids=["one-process", "forked"])
def test_stamp_lets_an_unchanged_tree_skip_the_database_but_not_a_write(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, forked: bool
) -> None:
    if forked:  # big trees split the stats with a forked process; make this small tree do so too
        monkeypatch.setattr(stamp_module, "_PARALLEL_MIN", 2)
        monkeypatch.setattr(stamp_module, "_spare_core", lambda: True)
    forks: list[int] = []
    real_fork = os.fork

    def counting_fork() -> int:
        pid = real_fork()
        if pid:
            forks.append(pid)
        return pid

    monkeypatch.setattr(os, "fork", counting_fork)
    top, _cache = make_tree(tmp_path, {f"d/f{i}.txt": b"row %d\n" % i for i in range(20)})
    time.sleep(2.1)  # objects older than the stamp's safety margin, as in real use
    assert check_tree(top, settings().cache_dir) == []
    stamp = top / ".git" / "selenite" / "check-stamp"
    assert stamp.is_file()

    def no_slow_pass(cache_root: Path, slow: dict[str, object]) -> dict[str, str]:
        raise AssertionError(f"slow pass ran for {sorted(slow)}")

    with monkeypatch.context() as m:
        m.setattr(objects, "settle", no_slow_pass)
        assert check_tree(top, settings().cache_dir) == []  # every link vouched for by the stamp

    write_through(top / "d/f3.txt", b"ROW 3\n")  # same size, same inode: only ctime moved
    assert [(p.path, p.kind) for p in check_tree(top, settings().cache_dir)] == [("d/f3.txt", "corrupted")]

    # An object swapped for another file of the same size (a new inode) is caught too.
    obj = (top / "d/f5.txt").resolve()
    os.chmod(obj.parent, 0o755)
    (obj.parent / "swap").write_bytes(b"ROW 5\n")
    os.replace(obj.parent / "swap", obj)
    problems = check_tree(top, settings().cache_dir)
    assert {p.path for p in problems} == {"d/f3.txt", "d/f5.txt"}
    assert bool(forks) == forked


def test_damaged_or_foreign_stamp_is_ignored(tree: tuple[Path, Cache]) -> None:
    top, _ = tree
    stamp = top / ".git" / "selenite" / "check-stamp"
    stamp.write_bytes(b"\x00garbage")
    write_through(top / "a.csv", b"x,y\n9,9\n")
    assert [p.path for p in check_tree(top, settings().cache_dir)] == ["a.csv"]
    assert stamp.read_bytes() == b"\x00garbage"  # a failed check stamps nothing


def test_index_link_listing_parses_sha1_and_sha256() -> None:
    sha1, sha256 = "a" * 40, "b" * 64
    listing = f"120000 {sha1} 0\tx/l.csv\x00100644 {'c' * 40} 0\tplain\x00120000 {sha1} 0\tsp ace\t.csv\x00"
    assert index_links(listing) == [(sha1, "x/l.csv"), (sha1, "sp ace\t.csv")]
    assert index_links(f"120000 {sha256} 0\tl\x00") == [(sha256, "l")]
    assert index_links("") == []


def test_an_untracked_link_does_not_rewrite_the_stamp_each_time(tree: tuple[Path, Cache]) -> None:
    top, _ = tree
    shutil.copy(top / "a.csv", top / "extra.csv", follow_symlinks=False)  # untracked: always re-checked
    time.sleep(2.1)  # objects older than the stamp's safety margin (else they are re-checked: correct, slower)
    assert check_tree(top, settings().cache_dir) == []
    stamp = top / ".git" / "selenite" / "check-stamp"
    first = stamp.stat().st_mtime_ns, stamp.stat().st_ino
    assert check_tree(top, settings().cache_dir) == []
    assert (stamp.stat().st_mtime_ns, stamp.stat().st_ino) == first


def test_a_file_name_that_looks_like_an_index_record_fools_nothing(tree: tuple[Path, Cache]) -> None:
    top, _ = tree
    odd = f"120000 {'a' * 40} 0\tb.txt"  # a legal file name, as `git ls-files -s` would print a link
    (top / odd).write_text("plain\n")
    git(top, "add", "-A")
    assert commit(top).returncode == 0
    assert check_tree(top, settings().cache_dir) == []
    write_through(top / "data/b.txt", b"HELLO\n")
    assert [p.path for p in check_tree(top, settings().cache_dir)] == ["data/b.txt"]
