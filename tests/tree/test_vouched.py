"""A scan with the last version's listing in the cache (as after a clone) reads no link Git vouches for,
and still sees what changed: staged link changes, edits Git sees, and the objects behind vouched links."""

from __future__ import annotations

import os
import shutil

import pytest

from selenite.cache import registry_id
from selenite.tree import symlinks
from selenite.tree.entry import PathStatus
from selenite.tree.links import link_text
from tests.support.git import git
from tests.tree.conftest import URL, MakeTree

FILES = {f"f{i}": f"content {i}".encode() for i in range(6)} | {"d/e/deep.csv": b"deep"}


@pytest.mark.parametrize("mode", ["symlink"])
def test_links_git_vouches_for_are_not_read(make_tree: MakeTree, mode: str, monkeypatch: pytest.MonkeyPatch) -> None:
    t = make_tree(FILES)
    t.cache.set_ref(registry_id(URL), "p", "a", "v1", t.cache.put_tree(t.listing))  # what clone records
    read: list[str] = []
    readlink = os.readlink

    def counted(path: str) -> str:
        read.append(os.path.relpath(path, t.root))
        return readlink(path)

    monkeypatch.setattr(symlinks.os, "readlink", counted)
    entries = {e.path: e for e in t.layout.scan(t.cache)}
    assert {e.status for e in entries.values()} == {PathStatus.UNCHANGED} and read == []
    assert {p: (e.key, e.target) for p, e in entries.items()} == {
        p: (k, link_text(p, k)) for p, k in t.listing.items()}

    # f0 names f1's content, staged: the index no longer holds the last version's link (read).
    os.unlink(t.root / "f0")
    os.symlink(link_text("f0", t.listing["f1"]), t.root / "f0")
    git("add", "f0", cwd=t.root)
    # f2 moved one folder down with its text unchanged: a link that no longer reaches the cache.
    os.rename(t.root / "f2", t.root / "d" / "f2")
    # f3's object written through the link; f4's object gone from the cache: vouched, still checked.
    obj3 = os.path.realpath(t.root / "f3")
    os.chmod(obj3, 0o644)
    with open(obj3, "r+b") as f:
        f.write(b"X")
    obj4 = os.path.realpath(t.root / "f4")
    os.chmod(os.path.dirname(obj4), 0o755)  # object folders are read-only
    shutil.rmtree(os.path.dirname(obj4))
    read.clear()
    got = t.statuses()
    assert got == {
        "f0": PathStatus.MODIFIED, "f1": PathStatus.UNCHANGED, "f2": PathStatus.DELETED, "d/f2": PathStatus.OUTSIDE,
        "f3": PathStatus.OBJECT_CORRUPTED, "f4": PathStatus.CONTENT_MISSING, "f5": PathStatus.UNCHANGED,
        "d/e/deep.csv": PathStatus.UNCHANGED,
    }
    assert sorted(read) == ["d/f2", "f0", "f2"]  # only what Git could not vouch for
