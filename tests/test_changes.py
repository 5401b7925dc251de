"""changes.compare: added, deleted, modified and renamed paths between two listings."""

from __future__ import annotations

from selenite import changes
from selenite.changes import Added, Deleted, Modified, Renamed

A = ("a" * 32, 10)
B = ("b" * 32, 20)
C = ("c" * 32, 30)
EMPTY = ("d41d8cd98f00b204e9800998ecf8427e", 0)


def test_equal_listings_have_no_changes() -> None:
    got = changes.compare({"x": A, "d/y": B}, {"d/y": B, "x": A})
    assert got.equal
    assert (got.added, got.deleted, got.modified, got.renamed) == ((), (), (), ())
    t = got.totals
    assert (t.unchanged, t.old_files, t.new_files, t.old_bytes, t.new_bytes) == (2, 2, 2, 30, 30)


def test_each_kind_sorted_by_path_with_totals() -> None:
    old = {"keep": A, "z-gone": B, "b-gone": C, "mod": A, "moved/old": C}
    new = {"keep": A, "mod": B, "y-new": A, "a-new": EMPTY, "moved/new": C}
    got = changes.compare(old, new)
    assert not got.equal
    assert got.added == (Added("a-new", 0), Added("y-new", 10))
    # b-gone and moved/old share content C with moved/new: moved/old pairs by path order after
    # the same-name pass finds nothing ("b-gone" < "moved/old", so b-gone is the one renamed)
    assert got.renamed == (Renamed("b-gone", "moved/new", 30),)
    assert got.deleted == (Deleted("moved/old", 30), Deleted("z-gone", 20))
    assert got.modified == (Modified("mod", 10, 20),)
    t = got.totals
    assert (t.added, t.deleted, t.modified, t.renamed, t.unchanged) == (2, 2, 1, 1, 1)
    assert (t.added_bytes, t.deleted_bytes, t.modified_old_bytes, t.modified_new_bytes, t.renamed_bytes) == (
        10, 50, 10, 20, 30)
    assert (t.old_files, t.new_files, t.old_bytes, t.new_bytes) == (5, 5, 100, 70)


def test_a_path_on_both_sides_is_never_renamed() -> None:
    # "a" keeps its content and "b" now holds a copy of it: an addition, not a rename.
    got = changes.compare({"a": A}, {"a": A, "b": A})
    assert got.added == (Added("b", 10),) and got.renamed == ()
    # "a" changed and "b" holds a's old content: modified plus added, still no rename.
    got = changes.compare({"a": A}, {"a": B, "b": A})
    assert got.modified == (Modified("a", 10, 20),) and got.added == (Added("b", 10),) and got.renamed == ()


def test_same_size_other_md5_is_not_a_rename() -> None:
    got = changes.compare({"a": A}, {"b": ("f" * 32, 10)})
    assert got.renamed == () and got.added == (Added("b", 10),) and got.deleted == (Deleted("a", 10),)


def test_many_files_of_one_content_pair_by_file_name_then_path_order() -> None:
    old = {"src/x.txt": EMPTY, "src/y.txt": EMPTY, "src/z.txt": EMPTY, "lone": EMPTY}
    new = {"b/y.txt": EMPTY, "a/x.txt": EMPTY, "c/other": EMPTY}
    got = changes.compare(old, new)
    assert got.renamed == (
        Renamed("src/x.txt", "a/x.txt", 0),
        Renamed("src/y.txt", "b/y.txt", 0),
        Renamed("lone", "c/other", 0),
    )
    assert got.deleted == (Deleted("src/z.txt", 0),)
    assert got.added == ()
    # the same answer whatever order the listings come in
    assert changes.compare(dict(reversed(old.items())), dict(reversed(new.items()))) == got


def test_a_moved_folder_of_many_identical_files_pairs_each_with_its_name() -> None:
    n = 3000
    old = {f"old/{i:05}.dat": EMPTY for i in range(n)}
    new = {f"new/{i:05}.dat": EMPTY for i in range(n)}
    got = changes.compare(old, new)
    assert len(got.renamed) == n and got.added == () and got.deleted == ()
    assert all(r.old_path[4:] == r.new_path[4:] for r in got.renamed)
    assert got.totals.unchanged == 0 and got.totals.renamed == n


def test_empty_listings() -> None:
    assert changes.compare({}, {}).equal
    got = changes.compare({}, {"a": A})
    assert got.added == (Added("a", 10),) and got.totals.unchanged == 0
