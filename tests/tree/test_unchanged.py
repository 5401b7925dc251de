"""A scan of a tree nothing changed in (issue 15): the vouch record and the check stamp answer it
without the last version's listing, a readlink or the signature database, and the answer is what
the full scan gives; every kind of change since then still takes the full scan and is seen."""

from __future__ import annotations

import os
import time

import pytest

from selenite.api.status import Status
from selenite.cache import Cache, registry_id
from selenite.check import objects as check_objects_module
from selenite.check.tree import check_tree
from selenite.tree import symlinks
from selenite.tree.entry import PathStatus, UnchangedPaths
from selenite.tree.links import link_text
from selenite.tree.origin import Origin
from selenite.tree.vouched import VOUCH_FILE
from tests.support.git import git
from tests.tree.conftest import URL, MakeTree, Tree

FILES = {f"f{i}": f"content {i}".encode() for i in range(5)} | {"d/e/deep.csv": b"deep"}
U = PathStatus.UNCHANGED


def _stamped(make_tree: MakeTree) -> Tree:
    t = make_tree(FILES)
    t.cache.set_ref(registry_id(URL), "p", "a", "v1", t.cache.put_tree(t.listing))  # what clone records
    time.sleep(2.1)  # objects older than the stamp's safety margin, as in real use
    assert check_tree(t.root, t.cache.root) == []  # the check stamps every intact object
    return t


def _forbid_reads(monkeypatch: pytest.MonkeyPatch) -> None:
    def refused(*args: object, **kwargs: object) -> None:
        raise AssertionError("read although nothing changed")

    monkeypatch.setattr(symlinks.os, "readlink", refused)
    monkeypatch.setattr(Cache, "get_tree", refused)
    monkeypatch.setattr(Cache, "signatures", refused)
    monkeypatch.setattr(Cache, "state", refused)


@pytest.mark.parametrize("mode", ["symlink"])
def test_an_unchanged_tree_is_answered_by_the_stamps(make_tree: MakeTree, mode: str,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    t = _stamped(make_tree)
    full = sorted(t.layout.scan(t.cache))  # the first scan makes the vouch record
    assert (t.root / ".git" / VOUCH_FILE).is_file()
    assert {e.path: e.status for e in full} == dict.fromkeys(FILES, U)
    with monkeypatch.context() as m:
        _forbid_reads(m)
        found = t.layout.survey(t.cache)
        assert isinstance(found, UnchangedPaths) and len(found) == len(FILES)
        assert sorted(found.entries()) == full  # keys, old keys and link texts as the full scan has them
        assert sorted(t.layout.scan(t.cache)) == full
        st = Status(t.root, Origin(URL, "p", "a", "v1"), found)  # what `selenite status` prints from
        assert st.clean and st.counts() == {U: len(FILES)} and st.paths == full
    assert full == sorted((p, U, k, k, link_text(p, k)) for p, k in t.listing.items())


@pytest.mark.parametrize("mode", ["symlink"])
def test_every_change_since_the_stamps_is_seen(make_tree: MakeTree, mode: str) -> None:
    t = _stamped(make_tree)
    t.layout.scan(t.cache)
    expected = dict.fromkeys(FILES, U)

    def seen() -> dict[str, str]:
        found = t.layout.survey(t.cache)
        assert not isinstance(found, UnchangedPaths)
        return {e.path: e.status for e in found}

    # An edit through a link: same size, same inode, the object's ctime moved past the stamp.
    obj = os.path.realpath(t.root / "f0")
    os.chmod(obj, 0o644)
    with open(obj, "r+b") as f:
        f.write(b"C")
    expected["f0"] = PathStatus.OBJECT_CORRUPTED
    assert seen() == expected
    # A new file (untracked), a deleted link, a link replaced by a file holding its text.
    (t.root / "new.txt").write_bytes(b"new")
    expected["new.txt"] = PathStatus.NEW
    os.unlink(t.root / "f1")
    expected["f1"] = PathStatus.DELETED
    text = os.readlink(t.root / "f2")
    os.unlink(t.root / "f2")
    (t.root / "f2").write_text(text)
    expected["f2"] = PathStatus.DESTROYED
    assert seen() == expected
    # A staged change of a link: the index (and so the vouch record's digest) differs.
    os.unlink(t.root / "f3")
    os.symlink(link_text("f3", t.listing["f4"]), t.root / "f3")
    git("add", "f3", cwd=t.root)
    expected["f3"] = PathStatus.MODIFIED
    assert seen() == expected


@pytest.mark.parametrize("mode", ["symlink"])
def test_a_scan_stamps_what_it_found_intact(make_tree: MakeTree, mode: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """A tree never committed since its clone has no check stamp: the first status judges its
    objects and stamps them (nothing corrupted), so the next one takes the fast answer; a corrupted
    object is never stamped, and the check trusts what status stamped."""
    t = make_tree(FILES)
    t.cache.set_ref(registry_id(URL), "p", "a", "v1", t.cache.put_tree(t.listing))
    stamp = t.root / ".git" / "selenite" / "check-stamp"
    time.sleep(2.1)  # objects older than the stamp's safety margin, as in real use
    obj = os.path.realpath(t.root / "f0")
    os.chmod(obj, 0o644)
    with open(obj, "r+b") as f:  # an edit through a link before any stamp
        f.write(b"C")
    assert t.statuses()["f0"] == PathStatus.OBJECT_CORRUPTED
    assert not stamp.exists()  # nothing stamped while an object is corrupted
    with open(obj, "r+b") as f:
        f.write(b"c")  # repaired (the same bytes as before)
    time.sleep(2.1)
    full = sorted(t.layout.scan(t.cache))
    assert {e.path: e.status for e in full} == dict.fromkeys(FILES, U) and stamp.is_file()
    with monkeypatch.context() as m:
        _forbid_reads(m)
        found = t.layout.survey(t.cache)
        assert isinstance(found, UnchangedPaths) and sorted(found.entries()) == full
    with monkeypatch.context() as m:

        def no_slow_pass(*args: object) -> None:
            raise AssertionError("the check judged an object status had stamped")

        m.setattr(check_objects_module, "settle", no_slow_pass)
        assert check_tree(t.root, t.cache.root) == []
