"""Working trees built in-process straight from the cache API (what clone makes), in each layout."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

import pytest

from selenite import gitrepo
from selenite.cache import Cache
from selenite.keys import Key
from selenite.tree.anchor import make_anchor
from selenite.tree.layout import Layout, layout_for
from selenite.tree.modes import MODES
from selenite.tree.origin import Origin, record_origin

URL = "http://127.0.0.1:1"


def key_of(data: bytes, ext: str = "") -> Key:
    return Key(hashlib.md5(data).hexdigest(), len(data), ext)


@dataclass
class Tree:
    root: Path
    cache: Cache
    layout: Layout
    listing: dict[str, Key]

    def commit_version(self, version: str) -> None:
        """Commit the tree as a version (what clone and push do after the files are made)."""
        gitrepo.add_all(self.root)
        gitrepo.commit(self.root, gitrepo.version_message(version, URL, "p", "a", version), allow_empty=True)

    def statuses(self) -> dict[str, str]:
        return {e.path: e.status for e in self.layout.scan(self.cache)}


MakeTree = Callable[..., Tree]


@pytest.fixture(params=MODES)
def mode(request: pytest.FixtureRequest) -> str:
    """Every working-tree test here runs over symlink, hardlink and copy trees."""
    return str(request.param)


@pytest.fixture
def make_tree(tmp_path: Path, mode: str) -> MakeTree:
    """``make_tree(files, absent=())``: a committed version tree holding ``files``; the content of
    the ``absent`` paths is not in the cache when the files are placed (a lazy clone)."""

    def make(files: Mapping[str, bytes], absent: tuple[str, ...] = (), name: str = "tree") -> Tree:
        cache = Cache(tmp_path / "cache")
        root = tmp_path / name
        root.mkdir()
        gitrepo.init(root)
        make_anchor(root, cache)
        listing = {p: key_of(d) for p, d in files.items()}
        for p, d in files.items():
            if p not in absent:
                cache.put_stream(listing[p], [d])
        layout = layout_for(root, mode)
        layout.start(cache, listing)
        record_origin(root, Origin(URL, "p", "a", "v1"), mode)
        tree = Tree(root, cache, layout, listing)
        tree.commit_version("v1")
        layout.populate(cache, listing)
        return tree

    return make
