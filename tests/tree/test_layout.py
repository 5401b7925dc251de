"""The layout contract: the same questions answered the same way by symlink, hardlink and copy trees.

Where a layout cannot tell something by its nature (a copy holds its own bytes, so writing to it
never touches the cache, and a renamed copy is not recognised without hashing), the expectation
says so through the layout's own answers (``shares_object``), not through the mode's name.
"""

from __future__ import annotations

import os
import stat

from selenite import gitrepo
from selenite.errors import UnsafePath
from selenite.keys import Key
from selenite.statcache import StatCache
from selenite.tree.entry import PathStatus
from selenite.tree.layout import layout_of
from selenite.tree.records import HASHES
from tests.support.git import git
from tests.tree.conftest import MakeTree, Tree, key_of

FILES = {f"f{i}": f"content {i}".encode() for i in range(6)} | {"d/e/deep.csv": b"deep"}


def _rewrite(path: os.PathLike[str] | str, data: bytes) -> None:
    """What an editor that saves to a new file and renames it does: a new file at the path."""
    os.unlink(path)
    with open(path, "wb") as f:
        f.write(data)


def test_a_fresh_tree_is_unchanged(make_tree: MakeTree, mode: str) -> None:
    t = make_tree(FILES)
    assert set(t.statuses().values()) == {PathStatus.UNCHANGED}
    assert {e.path: e.key for e in t.layout.scan(t.cache)} == t.listing
    assert t.layout.last_listing(t.cache) == t.listing
    found = layout_of(t.root)
    assert found.mode == mode
    assert (found.files_as, found.editable_in_place) == (t.layout.files_as, t.layout.editable_in_place)
    for path, key in t.listing.items():
        with open(t.root / path, "rb") as f:
            assert f.read() == FILES[path], path
        assert key.size == len(FILES[path])


def test_scan_classifies_edits(make_tree: MakeTree) -> None:
    t = make_tree(FILES)
    _rewrite(t.root / "f1", b"edited")  # modified
    os.unlink(t.root / "f2")  # deleted
    (t.root / "new.txt").write_bytes(b"brand new")  # new
    os.unlink(t.root / "f3")
    os.symlink("/etc/hostname", t.root / "f3")  # a link that does not reach the cache
    (t.root / ".gitignore").write_text("*.tmp\n")  # ignored files are not seen; the ignore file is
    (t.root / "scratch.tmp").write_text("x")
    got = t.statuses()
    assert got == {
        "f0": PathStatus.UNCHANGED, "f1": PathStatus.MODIFIED, "f2": PathStatus.DELETED, "f3": PathStatus.OUTSIDE,
        "f4": PathStatus.UNCHANGED, "f5": PathStatus.UNCHANGED, "d/e/deep.csv": PathStatus.UNCHANGED,
        "new.txt": PathStatus.NEW, ".gitignore": PathStatus.NEW,
    }
    entries = {e.path: e for e in t.layout.scan(t.cache)}
    assert entries["f1"].old_key == t.listing["f1"] and entries["f1"].key is None
    assert entries["f2"].old_key == t.listing["f2"]
    assert t.layout.last_listing(t.cache) == t.listing  # edits do not change the last version


def test_scan_of_some_paths_only(make_tree: MakeTree) -> None:
    t = make_tree(FILES)
    os.unlink(t.root / "f2")
    got = {e.path: e.status for e in t.layout.scan(t.cache, pathspecs=["d"])}
    assert got == {"d/e/deep.csv": PathStatus.UNCHANGED}
    # Without deleted paths: a layout may still name one Git tracks (get, unlock... skip them).
    assert {e.status for e in t.layout.scan(t.cache, include_deleted=False) if e.path == "f2"} <= {PathStatus.DELETED}


def test_a_moved_file_names_its_content(make_tree: MakeTree) -> None:
    t = make_tree(FILES)
    os.rename(t.root / "f0", t.root / "f0-renamed")
    got = {e.path: e for e in t.layout.scan(t.cache)}
    assert got["f0"].status == PathStatus.DELETED
    if t.layout.shares_object(got["f1"], t.cache):  # a link, or the object's own inode: known without hashing
        assert got["f0-renamed"].status == PathStatus.MOVED and got["f0-renamed"].key == t.listing["f0"]
    else:  # a copy of it is just a new file
        assert got["f0-renamed"].status == PathStatus.NEW


def test_content_not_fetched_is_missing_until_materialized(make_tree: MakeTree) -> None:
    t = make_tree(FILES, absent=("f4",))
    entries = {e.path: e for e in t.layout.scan(t.cache)}
    assert entries["f4"].status == PathStatus.CONTENT_MISSING and entries["f4"].key == t.listing["f4"]
    assert {e.status for p, e in entries.items() if p != "f4"} == {PathStatus.UNCHANGED}
    # Without object checks nothing is read from the cache (push and drop scan that way).
    assert {e.path: e.status for e in t.layout.scan(t.cache, check_objects=False)}["f4"] in (
        PathStatus.UNCHANGED, PathStatus.CONTENT_MISSING)
    t.cache.put_stream(t.listing["f4"], [FILES["f4"]])  # what get fetches
    t.layout.check_placeable(["f4"])
    t.layout.materialize(t.cache, list(entries.values()), whole_tree=True)
    assert set(t.statuses().values()) == {PathStatus.UNCHANGED}
    assert (t.root / "f4").read_bytes() == FILES["f4"]


def test_writing_in_place_corrupts_only_what_the_tree_shares(make_tree: MakeTree) -> None:
    t = make_tree(FILES)
    entry = next(e for e in t.layout.scan(t.cache) if e.path == "f3")
    shares = t.layout.shares_object(entry, t.cache)
    full = t.root / "f3"
    os.chmod(os.path.realpath(full), 0o644)  # the user forces write access
    with open(full, "r+b") as f:
        f.write(b"X")
    status = t.statuses()["f3"]
    assert status == (PathStatus.OBJECT_CORRUPTED if shares else PathStatus.MODIFIED)
    assert t.cache.verify(t.listing["f3"]) == (not shares)


def test_pinned_keys_are_what_the_files_on_disk_use(make_tree: MakeTree) -> None:
    t = make_tree(FILES)
    entries = t.layout.scan(t.cache)
    shared = {e.key for e in entries if e.key is not None and t.layout.shares_object(e, t.cache)}
    assert t.layout.pinned_keys() == shared
    assert shared in (set(), set(t.listing.values()))
    assert t.layout.keys_in_revisions(["HEAD"]) == shared  # what a checkout of HEAD would need


def _push(t: Tree, changes: dict[str, bytes]) -> dict[str, Key]:
    """What push does locally once the registry took ``changes`` (new bytes at those paths)."""
    pushed = {p: key_of(d) for p, d in changes.items()}
    for path, data in changes.items():
        if (t.root / path).exists() or (t.root / path).is_symlink():
            _rewrite(t.root / path, data)
        else:
            (t.root / path).write_bytes(data)
        t.cache.put_file(t.root / path, filename=path, expected=pushed[path])
    listing = dict(t.listing) | pushed
    hashes = StatCache(t.root / HASHES)
    try:
        relinked = [p for p, k in pushed.items() if t.layout.after_push(t.cache, p, k, hashes)]
        t.layout.record_pushed(t.cache, listing, relinked, hashes)
    finally:
        hashes.close()
    t.commit_version("v2")
    return listing


def test_after_push_the_tree_records_the_new_version(make_tree: MakeTree) -> None:
    t = make_tree(FILES)
    listing = _push(t, {"f1": b"edited", "g.txt": b"added"})
    assert t.layout.last_listing(t.cache) == listing
    assert set(t.statuses().values()) == {PathStatus.UNCHANGED}
    assert (t.root / "f1").read_bytes() == b"edited"
    assert not t.layout.out_of_sync()
    t.layout.require_in_sync()


def test_a_checkout_of_another_version_is_materialized(make_tree: MakeTree) -> None:
    t = make_tree(FILES)
    v1 = gitrepo.head(t.root)
    assert v1 is not None
    _push(t, {"f1": b"edited", "g.txt": b"added"})
    git("checkout", "-q", v1, cwd=t.root)
    entries = t.layout.scan(t.cache)
    # A symlink tree follows Git at once; a tree of real files once get placed the older version.
    assert {e.path: e.status for e in entries}["f1"] in (PathStatus.UNCHANGED, PathStatus.CONTENT_MISSING)
    t.layout.materialize(t.cache, entries, whole_tree=True)
    assert t.statuses() == dict.fromkeys(FILES, PathStatus.UNCHANGED)
    assert (t.root / "f1").read_bytes() == FILES["f1"]
    assert not os.path.lexists(t.root / "g.txt")
    assert not t.layout.out_of_sync()
    assert t.layout.last_listing(t.cache) == t.listing


def test_writes_never_go_through_a_symlinked_folder(make_tree: MakeTree) -> None:
    t = make_tree(FILES, absent=("d/e/deep.csv",))
    outside = t.root.parent / "outside"
    outside.mkdir()
    (t.root / "d").mkdir(exist_ok=True)
    if (t.root / "d" / "e").exists():
        os.rename(t.root / "d" / "e", t.root / "d" / "e-was")
    os.symlink(outside, t.root / "d" / "e")
    t.cache.put_stream(t.listing["d/e/deep.csv"], [FILES["d/e/deep.csv"]])
    entries = t.layout.scan(t.cache)
    try:
        t.layout.check_placeable(["d/e/deep.csv"])
        t.layout.materialize(t.cache, entries, whole_tree=True)
    except UnsafePath:
        pass
    assert list(outside.iterdir()) == []


def test_the_files_mode_bits(make_tree: MakeTree) -> None:
    t = make_tree(FILES)
    entry = next(e for e in t.layout.scan(t.cache) if e.path == "f0")
    writable = bool(os.stat(t.root / "f0").st_mode & stat.S_IWUSR)
    # The cache's objects are read-only; a file the user owns outright is writable.
    assert writable == t.layout.editable_in_place
    assert t.layout.shares_object(entry, t.cache) == (not t.layout.editable_in_place)


def test_layout_of_a_plain_git_clone(make_tree: MakeTree, mode: str) -> None:
    """A plain `git clone` knows its layout from what is committed (links, or the record)."""
    t = make_tree(FILES)
    clone = t.root.parent / "clone"
    git("clone", "-q", str(t.root), str(clone), cwd=t.root.parent)
    assert layout_of(clone).mode == mode
