"""gitrepo.history: version commits built by fast-import, the same ids wherever they are built."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from selenite.gitrepo import history as gh

NAMES = ["plain.txt", "with space.csv", 'quo"te\\back.txt', "ünïcödé/日本.bin", "-starts-with-dash", "d/e/f/deep.txt",
         "tab\there.txt"]


def _git(cwd: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True).stdout


def _spec(n: int, parent: str | int | None) -> gh.CommitSpec:
    entries = [gh.Entry(gh.MODE_LINK, name, f"../.git/selenite/objects/{i}/{n}".encode())
               for i, name in enumerate(NAMES)]
    entries.append(gh.Entry(gh.MODE_FILE, ".gitignore", b"*.tmp\n"))
    return gh.CommitSpec(entries, "alice", "alice@127.0.0.1:8787", 1_700_000_000 + n, f"p/a@v{n}\n", parent)


def test_the_same_specs_make_the_same_ids_in_any_repository(repo: Path, tmp_path: Path) -> None:
    first = gh.build_commits(repo, [_spec(1, None), _spec(2, 0)])
    other = tmp_path / "other"
    other.mkdir()
    _git(other, "init", "-q")
    v1 = gh.build_commits(other, [_spec(1, None)])
    v2 = gh.build_commits(other, [_spec(2, v1[0])])  # the parent already in the repository
    assert first == v1 + v2
    # Every name reached Git as a path, never as anything else; links are links, the rest files.
    listed = _git(repo, "ls-tree", "-r", "-z", "--full-tree", first[1]).split("\0")
    by_path = {rec.split("\t", 1)[1]: rec.split(" ")[0] for rec in listed if rec}
    assert by_path == {**{name: gh.MODE_LINK for name in NAMES}, ".gitignore": gh.MODE_FILE}
    assert _git(repo, "log", "--format=%an <%ae> %at %P", first[1]).splitlines() == [
        f"alice <alice@127.0.0.1:8787> 1700000002 {first[0]}", "alice <alice@127.0.0.1:8787> 1700000001 "]
    assert gh.resolve(repo, "refs/selenite/fast-import") is None  # no ref left behind
    assert gh.is_ancestor(repo, first[0], first[1]) and not gh.is_ancestor(repo, first[1], first[0])
    assert gh.tree_of(repo, first[1]) == _git(repo, "rev-parse", f"{first[1]}^{{tree}}").strip()


def test_a_parent_must_come_first(repo: Path) -> None:
    with pytest.raises(ValueError):
        gh.build_commits(repo, [_spec(1, 0)])
    assert gh.build_commits(repo, []) == []


def test_blobs_in_one_pack_index_entries_and_a_commit_without_refresh(repo: Path) -> None:
    datas = [b"one\n", b"two\n", b"one\n"]  # the same bytes twice: the same id
    ids = gh.write_blobs(repo, datas)
    assert ids[0] == ids[2] and [_git(repo, "cat-file", "blob", i) for i in ids] == ["one\n", "two\n", "one\n"]
    many = gh.write_blobs(repo, [b"%d\n" % n for n in range(200)])  # past fastimport.unpackLimit (100)
    assert len(set(many)) == 200 and "count: 2\n" in _git(repo, "count-objects", "-v")  # packed, not loose
    assert gh.write_blobs(repo, []) == []

    (repo / ".gitattributes").write_text("*.bin filter=demo\nraw.bin -filter\n")
    assert gh.with_filter(repo, ["a.bin", "raw.bin", "b.txt", "d/c.bin"], "demo") == {"a.bin", "d/c.bin"}

    (repo / "*.txt").write_text("star\n")  # a name that is a glob: added as that path only
    (repo / "x.txt").write_text("x\n")
    gh.add_paths(repo, ["*.txt"])
    assert _git(repo, "ls-files").split() == ["*.txt"]
    gh.set_index_entries(repo, [(gh.MODE_FILE, ids[1], 0, "known.bin")])
    tree = gh.index_tree(repo)
    sha = gh.commit_tree(repo, tree, None, "mine\n")
    assert _git(repo, "show", f"{sha}:known.bin") == "two\n" and gh.tree_of(repo, sha) == tree
    assert _git(repo, "log", "-1", "--format=%s", sha).strip() == "mine"
