"""The optional large-file guard (``selenite.check.largefiles``)."""

from __future__ import annotations

import os
from pathlib import Path

from selenite.cache import Cache
from selenite.check.largefiles import large_file_limit
from selenite.hook.install import install
from tests.check.trees import commit, git


def test_large_file_guard_is_off_by_default_and_refuses_when_set(tree: tuple[Path, Cache]) -> None:
    top, _ = tree
    (top / "big.dat").write_bytes(os.urandom(3000))
    git(top, "add", "big.dat")
    assert large_file_limit(top) is None
    git(top, "config", "selenite.largefiles", "2k")
    proc = commit(top)
    assert proc.returncode == 1
    assert "big.dat:" in proc.stderr and "selenite.largefiles" in proc.stderr and "selenite push" in proc.stderr
    git(top, "config", "selenite.largefiles", "1M")
    assert commit(top).returncode == 0


def test_large_file_guard_on_the_first_commit_and_bad_values(tmp_path: Path) -> None:
    top = tmp_path / "r"
    top.mkdir()
    git(top, "init", "-q")
    install(top)
    (top / "big.dat").write_bytes(b"x" * 5000)
    git(top, "add", "big.dat")
    git(top, "config", "selenite.largefiles", "4k")
    assert commit(top).returncode == 1
    git(top, "config", "selenite.largefiles", "ten megs")
    proc = commit(top)
    assert proc.returncode == 1 and "selenite.largefiles" in proc.stderr and "Traceback" not in proc.stderr
