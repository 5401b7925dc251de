"""The anchor: which cache a tree uses, as a link or (no symlinks) as a file holding the path."""

from __future__ import annotations

import errno
import os
from pathlib import Path

import pytest

from selenite.cache import Cache
from selenite.tree import anchor
from selenite.tree.anchor import anchor_path, anchor_target, make_anchor, tree_cache


def test_make_anchor_points_at_the_cache_objects(tmp_path: Path) -> None:
    cache, other = Cache(tmp_path / "c1"), Cache(tmp_path / "c2")
    root = tmp_path / "t"
    root.mkdir()
    assert anchor_target(root) is None
    assert tree_cache(root, cache) is cache  # no anchor: the default
    make_anchor(root, cache)
    assert anchor_path(root).is_symlink() and anchor_target(root) == cache.objects
    assert tree_cache(root, other).root == cache.root  # the anchor wins over the configured cache
    assert tree_cache(root, tmp_path / "c3").root == cache.root
    make_anchor(root, other)  # recreated when it points elsewhere
    assert anchor_target(root) == other.objects


def test_anchor_as_text_where_symlinks_are_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cache = Cache(tmp_path / "c")
    root = tmp_path / "t"
    root.mkdir()

    def refuse(*_args: object, **_kwargs: object) -> None:
        raise OSError(errno.EPERM, "symlinks refused")

    monkeypatch.setattr(anchor.os, "symlink", refuse)
    make_anchor(root, cache)
    assert anchor_path(root).is_file() and anchor_target(root) == cache.objects
    assert tree_cache(root, tmp_path / "elsewhere").root == cache.root


def test_a_relative_or_foreign_anchor_is_not_trusted(tmp_path: Path) -> None:
    root = tmp_path / "t"
    anchor_path(root).parent.mkdir(parents=True)
    os.symlink("relative/objects", anchor_path(root))
    default = Cache(tmp_path / "c")
    assert tree_cache(root, default) is default
    os.unlink(anchor_path(root))
    anchor_path(root).write_text("not a path\n")
    assert anchor_target(root) is None
