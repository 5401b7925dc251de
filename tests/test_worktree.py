"""Link math, manifest validation and scan() classification on hand-made trees (no server)."""

from __future__ import annotations

import hashlib
import os
import time
from pathlib import Path

import pytest

from selenite import gitrepo, worktree
from selenite.cache import Cache
from selenite.errors import FatalError, UnsafePath
from selenite.keys import Key
from tests.support.git import git


def key_of(data: bytes, ext: str = ".txt") -> Key:
    return Key(hashlib.md5(data).hexdigest(), len(data), ext)


def manifest_entry(data: bytes) -> dict[str, object]:
    return {"md5sum": hashlib.md5(data).hexdigest(), "size": len(data)}


def test_parse_manifest_sources() -> None:
    ancestor = {"project": "p", "asset": "a", "version": "v0", "path": "z"}
    m = {
        "a.txt": manifest_entry(b"a"),
        "d/b.csv": {**manifest_entry(b"b"), "link": {"project": "p", "asset": "a", "version": "v1", "path": "b.csv"}},
        "c.txt": {**manifest_entry(b"c"), "link": {"project": "p", "asset": "a", "version": "v2", "path": "c.txt",
                                                   "ancestor": ancestor}},
    }
    specs = worktree.parse_manifest(m, "p", "a", "v3")
    assert specs["a.txt"].source == "p/a/v3/a.txt"
    assert specs["d/b.csv"].source == "p/a/v1/b.csv" and specs["d/b.csv"].key == key_of(b"b", ".csv")
    assert specs["c.txt"].source == "p/a/v0/z"


@pytest.mark.parametrize("bad", ["../x", "/abs", "a/../b", "a\\b", "a//b", "./a", "a/..links", ""])
def test_parse_manifest_refuses_unsafe_paths(bad: str) -> None:
    with pytest.raises(UnsafePath):
        worktree.parse_manifest({bad: manifest_entry(b"a")}, "p", "a", "v")


def test_parse_manifest_refuses_bad_entries() -> None:
    with pytest.raises(FatalError):
        worktree.parse_manifest({"a": {"md5sum": "nothex", "size": 1}}, "p", "a", "v")
    with pytest.raises(FatalError):
        worktree.parse_manifest({"a": {"md5sum": "0" * 32, "size": -1}}, "p", "a", "v")
    with pytest.raises(FatalError, match="file and a folder"):
        worktree.parse_manifest({"a": manifest_entry(b"1"), "a/b": manifest_entry(b"2")}, "p", "a", "v")
    with pytest.raises(UnsafePath):
        link = {"project": "..", "asset": "a", "version": "v", "path": "x"}
        worktree.parse_manifest({"a": {**manifest_entry(b"1"), "link": link}}, "p", "a", "v")


def make_tree(tmp_path: Path, cache: Cache, files: dict[str, bytes]) -> tuple[Path, dict[str, Key]]:
    """A committed version tree built straight from the cache API (what clone makes)."""
    root = tmp_path / "tree"
    root.mkdir()
    gitrepo.init(root)
    worktree.make_anchor(root, cache)
    listing = {p: cache.put_stream(key_of(d, ""), [d]) and key_of(d, "") for p, d in files.items()}
    worktree.make_links(root, listing)
    gitrepo.add_all(root)
    gitrepo.commit(root, gitrepo.version_message("t", "http://127.0.0.1:1", "p", "a", "v1"))
    return root, listing


def classes(entries: list[worktree.Entry]) -> dict[str, str]:
    return {e.path: e.status for e in entries}


def test_scan_classifies_every_kind(tmp_path: Path) -> None:
    cache = Cache(tmp_path / "cache")
    files = {f"f{i}": f"content {i}".encode() for i in range(9)}
    root, listing = make_tree(tmp_path, cache, files)
    assert set(classes(worktree.scan(root, cache)).values()) == {worktree.UNCHANGED}
    # f0: moved (renamed link); f1: modified (unlocked and edited); f2: deleted; new.txt: new
    os.rename(root / "f0", root / "f0-renamed")
    os.unlink(root / "f0-renamed")
    worktree.relink(root, "f0-renamed", listing["f0"])
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
    got = classes(worktree.scan(root, cache))
    assert got == {
        "f0": worktree.DELETED, "f0-renamed": worktree.MOVED, "f1": worktree.MODIFIED, "f2": worktree.DELETED,
        "f3": worktree.OBJECT_CORRUPTED, "f4": worktree.CONTENT_MISSING, "f5": worktree.OUTSIDE,
        "f6": worktree.DESTROYED, "f7": worktree.UNCHANGED, "f8": worktree.UNCHANGED,
        "new.txt": worktree.NEW, ".gitignore": worktree.NEW,
    }
    entries = {e.path: e for e in worktree.scan(root, cache)}
    assert entries["f6"].key == listing["f6"] and entries["f1"].old_key == listing["f1"]
    # deleted and committed away: still reported against the last version
    git("rm", "-q", "--cached", "f2", cwd=root)
    assert classes(worktree.scan(root, cache))["f2"] == worktree.DELETED


def test_scan_uses_cached_tree_or_git(tmp_path: Path) -> None:
    cache = Cache(tmp_path / "cache")
    root, listing = make_tree(tmp_path, cache, {"a": b"1", "d/b": b"2"})
    assert worktree.last_listing(root, None) == listing  # from the commit's link texts
    from selenite.cache import registry_id

    cache.set_ref(registry_id("http://127.0.0.1:1"), "p", "a", "v1", cache.put_tree(listing))
    assert worktree.last_listing(root, cache) == listing  # from the cache
    o = worktree.origin(root)
    assert o == worktree.Origin("http://127.0.0.1:1", "p", "a", "v1")


def test_scan_is_fast_on_many_links(tmp_path: Path) -> None:
    cache = Cache(tmp_path / "cache")
    n = 20000
    k = key_of(b"shared", "")
    cache.put_stream(k, [b"shared"])
    root = tmp_path / "big"
    root.mkdir()
    gitrepo.init(root)
    worktree.make_anchor(root, cache)
    listing = {f"d{i % 100}/f{i}": k for i in range(n)}
    worktree.make_links(root, listing)
    gitrepo.add_all(root)
    gitrepo.commit(root, gitrepo.version_message("t", "http://127.0.0.1:1", "p", "a", "v1"))
    t = time.perf_counter()
    entries = worktree.scan(root, cache)
    elapsed = time.perf_counter() - t
    assert len(entries) == n and all(e.status == worktree.UNCHANGED for e in entries)
    assert elapsed < 3.0, elapsed  # 100,000 links scale to well under a few seconds
