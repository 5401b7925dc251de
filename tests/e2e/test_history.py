"""History across registry versions (issue 14): the stale-base refusal, deterministic version
commits, `selenite fetch`, `pull` and `checkout`. Real `selenite serve`, real git."""

from __future__ import annotations

import hashlib
from pathlib import Path

import gypsum_client as gc
import pytest

from tests.e2e.test_push import git, seed, tree_bytes
from tests.support.cli import selenite
from tests.support.registry import Registry

pytestmark = pytest.mark.backends("folder")  # the subject is history, not the storage

V1 = {"keep.txt": b"kept\n", "data/one.csv": b"a,b\n1,2\n", "edit.txt": b"line 1\nline 2\nline 3\n"}


def registry_manifest(registry: Registry, version: str) -> dict[str, dict[str, object]]:
    return dict(gc.fetch_manifest("proj", "data", version, url=registry.url, cache_dir=None))


def registry_file(registry: Registry, version: str, path: str) -> bytes:
    return registry.get_raw(f"proj/data/{version}/{path}")


def clone(registry: Registry, dest: Path, *args: str) -> Path:
    selenite("clone", "proj/data", dest, "--url", registry.url, *args)
    return dest


def push(tree: Path, registry: Registry, *args: str, check: bool = True) -> str:
    proc = selenite("push", "--token", registry.admin_token, *args, cwd=tree, check=check)
    return proc.stdout + proc.stderr


def test_a_push_from_a_stale_base_is_refused(registry: Registry, tmp_path: Path) -> None:
    seed(registry, tmp_path, V1)
    a, b = clone(registry, tmp_path / "a"), clone(registry, tmp_path / "b")
    (a / "a.txt").write_bytes(b"from A\n")
    push(a, registry)  # v2
    (b / "b.txt").write_bytes(b"from B\n")
    refusal = "selenite: error: the registry has v2; `selenite pull` first, or `--force` to publish anyway"
    for args in ((), ("--dry-run",)):
        proc = selenite("push", "--token", registry.admin_token, *args, cwd=b, check=False)
        assert proc.returncode == 1 and proc.stderr.strip() == refusal, proc.stderr
    assert "plan for proj/data/v3" in push(b, registry, "--dry-run", "--force")
    assert git("status", "--porcelain", cwd=b).strip() == "?? b.txt"  # nothing changed by the refusals


def log(tree: Path) -> str:
    return git("log", "--oneline", "--all", cwd=tree)


def test_two_clones_share_history_and_pull_fast_forwards(registry: Registry, tmp_path: Path) -> None:
    seed(registry, tmp_path, V1)
    a = clone(registry, tmp_path / "a")
    b_cache = {"SELENITE_CACHE": str(tmp_path / "cache-b")}
    selenite("clone", "proj/data", tmp_path / "b", "--url", registry.url, env=b_cache)
    b = tmp_path / "b"
    assert git("rev-parse", "HEAD", cwd=a) == git("rev-parse", "HEAD", cwd=b)
    assert git("rev-parse", "refs/remotes/registry/latest", cwd=a) == git("rev-parse", "HEAD", cwd=a)

    # A commits locally twice, then pushes: the branch becomes the version commit, the local
    # commits stay under refs/selenite/pushed/v2.
    (a / "a.txt").write_bytes(b"from A\n")
    git("add", "a.txt", cwd=a)
    git("commit", "-qm", "add a.txt", cwd=a)
    selenite("unlock", "edit.txt", cwd=a)
    (a / "edit.txt").write_bytes(b"line 1\nline 2 by A\nline 3\n")
    git("commit", "-qam", "edit", cwd=a)
    local = git("rev-parse", "HEAD", cwd=a)
    push(a, registry)
    assert git("rev-parse", "refs/selenite/pushed/v2", cwd=a) == local
    assert git("status", "--porcelain", cwd=a) == ""
    assert git("log", "-1", "--format=%s", cwd=a).strip() == "proj/data@v2"

    # fetch: v2 as its commit and tag, latest follows; nothing moves, no content comes.
    before = git("rev-parse", "HEAD", cwd=b)
    fetched = selenite("fetch", cwd=b, env=b_cache).stdout
    v2 = git("rev-parse", "HEAD", cwd=a).strip()
    assert fetched.strip() == f"{v2[:12]}  proj/data@v2  (latest)"
    assert git("rev-parse", "v2^{commit}", "refs/remotes/registry/latest", cwd=b).split() == [v2, v2]
    assert git("rev-parse", "HEAD", cwd=b) == before
    from_a = hashlib.md5(b"from A\n").hexdigest()
    assert not list((tmp_path / "cache-b").rglob(f"*{from_a}*"))

    # pull with --no-download, then as if it had been killed before its downloads: the next pull
    # finishes the move (the content of the changed paths), as the interruption record says.
    out = selenite("pull", "--no-download", cwd=b, env=b_cache)
    assert "fast-forwarded proj/data@v2" in out.stderr
    assert tree_bytes(b)["a.txt"] is None  # a link without content
    (Path(git("rev-parse", "--absolute-git-dir", cwd=b).strip()) / "selenite" / "move-pending").write_text(before)
    assert "finishing an interrupted pull" in selenite("pull", cwd=b, env=b_cache).stderr
    assert tree_bytes(b) == {**V1, "a.txt": b"from A\n", "edit.txt": b"line 1\nline 2 by A\nline 3\n"}
    assert git("status", "--porcelain", cwd=b) == ""
    assert git("log", "--oneline", cwd=a) == git("log", "--oneline", cwd=b)
    assert git("config", "selenite.version", cwd=b).strip() == "v2"
    assert "already up to date" in selenite("pull", cwd=b, env=b_cache).stderr

    # checkout between versions: detached at v1's commit, the tree is v1 again; then back.
    selenite("checkout", "v1", cwd=b, env=b_cache)
    assert tree_bytes(b) == V1 and git("status", "--porcelain", cwd=b) == ""
    assert git("rev-parse", "HEAD", cwd=b) == git("rev-parse", "v1^{commit}", cwd=a)
    assert selenite("status", cwd=b, env=b_cache).stdout.strip() == ""
    selenite("unlock", "edit.txt", cwd=b, env=b_cache)
    (b / "edit.txt").write_bytes(b"uncommitted\n")
    refused = selenite("checkout", "v2", cwd=b, env=b_cache, check=False)
    assert refused.returncode == 1
    assert refused.stderr.strip() == ("selenite: error: checkout would overwrite your uncommitted edits to edit.txt: "
                                      "commit them (or move them away) first; nothing was changed")
    assert (b / "edit.txt").read_bytes() == b"uncommitted\n"


def test_a_stale_push_pulls_merges_then_publishes_both(registry: Registry, tmp_path: Path) -> None:
    seed(registry, tmp_path, V1)
    a, b = clone(registry, tmp_path / "a"), clone(registry, tmp_path / "b")
    (a / "a.txt").write_bytes(b"from A\n")
    push(a, registry)  # v2
    (b / "b.txt").write_bytes(b"from B\n")
    git("add", "b.txt", cwd=b)
    git("commit", "-qm", "b", cwd=b)
    assert selenite("push", "--token", registry.admin_token, cwd=b, check=False).returncode == 1
    out = selenite("pull", cwd=b)
    assert "merged proj/data@v2" in out.stderr
    assert tree_bytes(b) == {**V1, "a.txt": b"from A\n", "b.txt": b"from B\n"}
    assert "pushed proj/data/v3" in push(b, registry)
    manifest = registry_manifest(registry, "v3")
    assert set(manifest) == {*V1, "a.txt", "b.txt"}
    selenite("pull", cwd=a)
    assert git("log", "--oneline", cwd=a) == git("log", "--oneline", cwd=b)
    assert git("rev-parse", "HEAD", cwd=a) == git("rev-parse", "HEAD", cwd=b)


def test_both_edited_one_file_stops_with_conflict_markers(registry: Registry, tmp_path: Path) -> None:
    seed(registry, tmp_path, V1)
    a, b = clone(registry, tmp_path / "a"), clone(registry, tmp_path / "b")
    for tree, who in ((a, b"A"), (b, b"B")):
        selenite("unlock", "edit.txt", cwd=tree)
        (tree / "edit.txt").write_bytes(b"line 1\nline 2 by " + who + b"\nline 3\n")
        git("commit", "-qam", "edit", cwd=tree)
    push(a, registry)
    proc = selenite("pull", cwd=b, check=False)
    assert proc.returncode == 1 and "CONFLICT" in proc.stderr and "edit.txt" in proc.stderr
    text = (b / "edit.txt").read_bytes()
    assert not (b / "edit.txt").is_symlink()
    assert b"<<<<<<< HEAD\nline 2 by B\n=======\nline 2 by A\n>>>>>>> proj/data@v2\n" in text
    assert "UU edit.txt" in git("status", "--porcelain", cwd=b)
    assert not (b / "edit.txt~HEAD").exists()
    # Resolved as in any repository: edit, add, commit; then the push carries it.
    (b / "edit.txt").write_bytes(b"line 1\nline 2 by A and B\nline 3\n")
    git("add", "edit.txt", cwd=b)
    git("commit", "-qm", "merged", cwd=b)
    push(b, registry)
    assert registry_file(registry, "v3", "edit.txt") == b"line 1\nline 2 by A and B\nline 3\n"


@pytest.mark.parametrize("mode", ["hardlink", "copy", "git-clone"])
def test_pull_in_every_kind_of_tree(registry: Registry, tmp_path: Path, mode: str) -> None:
    seed(registry, tmp_path, V1)
    a = clone(registry, tmp_path / "a")
    if mode == "git-clone":  # a plain `git clone` of a working tree: its commits know their origin
        git("clone", "-q", str(a), str(tmp_path / "b"), cwd=tmp_path)
        b = tmp_path / "b"
        selenite("get", cwd=b)
    else:
        b = clone(registry, tmp_path / "b", "--link-mode", mode)
    head = git("rev-parse", "HEAD", cwd=b)
    (a / "a.txt").write_bytes(b"from A\n")
    git("rm", "-q", "keep.txt", cwd=a)
    push(a, registry)
    selenite("pull", cwd=b)
    assert tree_bytes(b) == {**{p: d for p, d in V1.items() if p != "keep.txt"}, "a.txt": b"from A\n"} | (
        {".selenite/tree.json": (b / ".selenite/tree.json").read_bytes()} if mode in ("hardlink", "copy") else {})
    assert selenite("status", cwd=b).stdout.strip() == ""
    assert git("rev-parse", "HEAD~1", cwd=b) == head  # a fast-forward onto v2's commit
    if mode == "git-clone":
        assert git("log", "--oneline", "HEAD", cwd=a) == git("log", "--oneline", "HEAD", cwd=b)
        return
    # Data Git does not see: an edit to a file v1 lacks is found by a scan and not overwritten.
    (b / "a.txt").unlink()  # (a new file, never a write through a hard link)
    (b / "a.txt").write_bytes(b"edited in B\n")
    refused = selenite("checkout", "v1", cwd=b, check=False)
    assert refused.returncode == 1 and "uncommitted edits to a.txt" in refused.stderr
    assert "`mv a.txt a.txt.mine`" in refused.stderr  # a commit would not keep it here: the advice says so
    (b / "a.txt").unlink()
    selenite("checkout", "v1", cwd=b)
    assert tree_bytes(b) == {**V1, ".selenite/tree.json": (b / ".selenite/tree.json").read_bytes()}
    assert selenite("status", cwd=b).stdout.strip() == ""


def test_a_tree_cloned_before_the_commit_rule_pulls_onto_the_new_history(registry: Registry, tmp_path: Path) -> None:
    seed(registry, tmp_path, V1)
    a, b = clone(registry, tmp_path / "a"), clone(registry, tmp_path / "b")
    # An older selenite's clone: the same tree and trailers in a commit of its own (another date).
    git("commit", "-q", "--amend", "--no-edit", "--date=2001-01-01T00:00:00", cwd=b)
    (a / "a.txt").write_bytes(b"from A\n")
    push(a, registry)
    selenite("pull", cwd=b)
    assert git("rev-parse", "HEAD", cwd=b) == git("rev-parse", "HEAD", cwd=a)
    assert tree_bytes(b) == {**V1, "a.txt": b"from A\n"}
