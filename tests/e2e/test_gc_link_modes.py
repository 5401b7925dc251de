"""`selenite gc` over hardlink and copy trees: a hardlink tree pins what its committed record names
(even a file deleted on disk); a copy tree holds its own bytes and pins nothing."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.support.cli import selenite
from tests.support.files import tree_files
from tests.support.registry import Registry
from tests.support.seed import seed_three_versions

pytestmark = pytest.mark.backends("folder")  # the subject is the cache, not the storage


def objects() -> set[str]:
    root = Path(os.environ["SELENITE_CACHE"]) / "objects"
    return {p.name for p in root.glob("*/*/*/*")}


def test_gc_keeps_a_hardlink_trees_record_and_nothing_for_a_copy_tree(registry: Registry, tmp_path: Path) -> None:
    seeded = seed_three_versions(registry, tmp_path)
    hard, copy = tmp_path / "hard", tmp_path / "copy"
    selenite("clone", "--url", registry.url, "--link-mode", "hardlink", "test/blob@v1", hard)
    (hard / "a.txt").unlink()  # gone on disk, still named by the record HEAD holds
    pinned = objects()
    selenite("clone", "--url", registry.url, "--link-mode", "copy", "test/blob@v2", copy)
    assert objects() > pinned  # v2's new content came through the cache
    r = selenite("gc", "--force", cwd=tmp_path)
    assert "2 working tree(s)" in r.stderr, r.stderr
    assert objects() == pinned
    files = tree_files(copy)
    files.pop(".selenite/tree.json")
    assert files == seeded["v2"]  # the copy tree never needed the cache
    assert "a.txt" in selenite("status", cwd=hard).stdout  # deleted, and its content still at hand
