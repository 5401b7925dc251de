"""Which cache a tree's check reads, and what it knows the registry holds (``selenite.check.objects``)."""

from __future__ import annotations

from pathlib import Path

from selenite.check.objects import cache_root
from selenite.tree.links import ANCHOR


def _tree(tmp_path: Path) -> Path:
    top = tmp_path / "tree"
    (top / ".git" / "selenite").mkdir(parents=True)
    return top


def test_the_anchor_names_the_cache(tmp_path: Path) -> None:
    top, theirs = _tree(tmp_path), tmp_path / "their-cache"
    (theirs / "objects").mkdir(parents=True)
    (top / ANCHOR).symlink_to(theirs / "objects")
    assert cache_root(top, tmp_path / "configured") == theirs


def test_an_anchor_file_names_the_cache_too(tmp_path: Path) -> None:
    """Where symlinks are refused the anchor is a regular file holding the path: the check used to
    fall back to the configured cache there, unlike the rest of the client (review bug C5)."""
    top, theirs = _tree(tmp_path), tmp_path / "their-cache"
    (theirs / "objects").mkdir(parents=True)
    (top / ANCHOR).write_text(f"{theirs / 'objects'}\n")
    assert cache_root(top, tmp_path / "configured") == theirs


def test_without_an_anchor_the_configured_cache(tmp_path: Path) -> None:
    top = _tree(tmp_path)
    assert cache_root(top, tmp_path / "configured") == tmp_path / "configured"
    (top / ANCHOR).symlink_to("relative/objects")  # not one selenite writes: ignored, as tree_cache does
    assert cache_root(top, tmp_path / "configured") == tmp_path / "configured"
