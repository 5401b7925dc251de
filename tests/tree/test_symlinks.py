"""Symlink trees: scanning links (destroyed and outside links, the last version from Git or the
cache), on hand-made trees (no server)."""

from __future__ import annotations

import os
import time
from pathlib import Path

from selenite import gitrepo
from selenite.cache import Cache, registry_id
from selenite.keys import Key
from selenite.tree.anchor import make_anchor
from selenite.tree.entry import Entry, PathStatus
from selenite.tree.origin import Origin, origin
from selenite.tree.symlinks import last_listing, linked_keys, make_links, relink, scan
from tests.support.git import git
from tests.tree.conftest import URL, key_of


def make_tree(tmp_path: Path, cache: Cache, files: dict[str, bytes]) -> tuple[Path, dict[str, Key]]:
    """A committed version tree built straight from the cache API (what clone makes)."""
    root = tmp_path / "tree"
    root.mkdir()
    gitrepo.init(root)
    make_anchor(root, cache)
    listing = {p: key_of(d) for p, d in files.items()}
    for p, d in files.items():
        cache.put_stream(listing[p], [d])
    make_links(root, listing)
    gitrepo.add_all(root)
    gitrepo.commit(root, gitrepo.version_message("t", URL, "p", "a", "v1"))
    return root, listing


def classes(entries: list[Entry]) -> dict[str, str]:
    return {e.path: e.status for e in entries}


def test_scan_classifies_every_kind(tmp_path: Path) -> None:
    cache = Cache(tmp_path / "cache")
    files = {f"f{i}": f"content {i}".encode() for i in range(9)}
    root, listing = make_tree(tmp_path, cache, files)
    assert set(classes(scan(root, cache)).values()) == {PathStatus.UNCHANGED}
    # f0: moved (renamed link); f1: modified (unlocked and edited); f2: deleted; new.txt: new
    os.rename(root / "f0", root / "f0-renamed")
    os.unlink(root / "f0-renamed")
    relink(root, "f0-renamed", listing["f0"])
    os.unlink(root / "f1")
    (root / "f1").write_bytes(b"edited")
    os.unlink(root / "f2")
    (root / "new.txt").write_bytes(b"brand new")
    # f3: object corrupted (written through the link after chmod +w)
    obj = cache.object_path(listing["f3"])
    os.chmod(obj, 0o644)
    with open(root / "f3", "r+b") as f:
        f.write(b"X")
    # f4: content missing; f5: link outside the cache; f6: destroyed (a file with the link's text)
    cache.remove(listing["f4"])
    os.unlink(root / "f5")
    os.symlink("/etc/hostname", root / "f5")
    text = os.readlink(root / "f6")
    os.unlink(root / "f6")
    (root / "f6").write_text(text)
    # ignored files are not seen
    (root / ".gitignore").write_text("*.tmp\n")
    (root / "scratch.tmp").write_text("x")
    got = classes(scan(root, cache))
    assert got == {
        "f0": PathStatus.DELETED, "f0-renamed": PathStatus.MOVED, "f1": PathStatus.MODIFIED, "f2": PathStatus.DELETED,
        "f3": PathStatus.OBJECT_CORRUPTED, "f4": PathStatus.CONTENT_MISSING, "f5": PathStatus.OUTSIDE,
        "f6": PathStatus.DESTROYED, "f7": PathStatus.UNCHANGED, "f8": PathStatus.UNCHANGED,
        "new.txt": PathStatus.NEW, ".gitignore": PathStatus.NEW,
    }
    entries = {e.path: e for e in scan(root, cache)}
    assert entries["f6"].key == listing["f6"] and entries["f1"].old_key == listing["f1"]
    # deleted and committed away: still reported against the last version
    git("rm", "-q", "--cached", "f2", cwd=root)
    assert classes(scan(root, cache))["f2"] == PathStatus.DELETED


def test_scan_uses_cached_tree_or_git(tmp_path: Path) -> None:
    cache = Cache(tmp_path / "cache")
    root, listing = make_tree(tmp_path, cache, {"a": b"1", "d/b": b"2"})
    assert last_listing(root, None) == listing  # from the commit's link texts
    cache.set_ref(registry_id(URL), "p", "a", "v1", cache.put_tree(listing))
    assert last_listing(root, cache) == listing  # from the cache
    o = origin(root)
    assert o == Origin(URL, "p", "a", "v1")


def test_scan_is_fast_on_many_links(tmp_path: Path) -> None:
    cache = Cache(tmp_path / "cache")
    n = 20000
    k = key_of(b"shared")
    cache.put_stream(k, [b"shared"])
    root = tmp_path / "big"
    root.mkdir()
    gitrepo.init(root)
    make_anchor(root, cache)
    listing = {f"d{i % 100}/f{i}": k for i in range(n)}
    make_links(root, listing)
    gitrepo.add_all(root)
    gitrepo.commit(root, gitrepo.version_message("t", URL, "p", "a", "v1"))
    t = time.perf_counter()
    entries = scan(root, cache)
    elapsed = time.perf_counter() - t
    assert len(entries) == n and all(e.status == PathStatus.UNCHANGED for e in entries)
    assert elapsed < 3.0, elapsed  # 100,000 links scale to well under a few seconds


def test_linked_keys_are_the_links_on_disk(tmp_path: Path) -> None:
    cache = Cache(tmp_path / "cache")
    root, listing = make_tree(tmp_path, cache, {"a": b"1", "d/b": b"2", "c": b"3"})
    os.unlink(root / "c")
    (root / "x").symlink_to("/etc/hostname")
    assert linked_keys(root) == {listing["a"], listing["d/b"]}
