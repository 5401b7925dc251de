"""What the pre-commit hook may touch and what it needs (issue 12, item 16), with real git and a
real `selenite serve`: it fixes only links already in the index, works in a plain `git clone`
before `selenite get`, and no command that talks to no registry cares what SELENITE_URL holds."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.support.cli import selenite
from tests.support.git import ok
from tests.support.git import run_git as git
from tests.support.registry import Registry
from tests.support.seed import seed_three_versions

pytestmark = pytest.mark.parametrize("registry", ["folder"], indirect=True)


def committed_paths(cwd: Path) -> list[str]:
    return ok(git(cwd, "diff-tree", "--no-commit-id", "--name-only", "-r", "HEAD")).stdout.split()


@pytest.fixture
def work(registry: Registry, tmp_path: Path) -> Path:
    seed_three_versions(registry, tmp_path)
    selenite("clone", "test/blob@v3", tmp_path / "work", "--url", registry.url, cwd=tmp_path)
    return tmp_path / "work"


def test_the_hook_never_stages_an_untracked_moved_link(work: Path) -> None:
    text = os.readlink(work / "a.txt")
    (work / "sub").mkdir()
    os.rename(work / "a.txt", work / "sub" / "a.txt")  # a plain mv: sub/a.txt is untracked
    (work / "notes.txt").write_text("notes\n")
    ok(git(work, "add", "notes.txt"))
    proc = ok(git(work, "commit", "-m", "notes"))
    assert committed_paths(work) == ["notes.txt"]  # not sub/a.txt, which the user never staged
    assert os.readlink(work / "sub" / "a.txt") == text  # left as it is, and named
    assert "sub/a.txt" in proc.stderr and "not in this commit" in proc.stderr
    assert "?? sub/" in git(work, "status", "--porcelain").stdout  # still untracked

    # `selenite check --fix` rewrites it when asked, and still stages nothing
    selenite("check", "--fix", cwd=work)
    assert os.readlink(work / "sub" / "a.txt") == "../" + text
    assert (work / "sub" / "a.txt").read_bytes() == b"alpha\n"
    assert git(work, "diff", "--cached", "--name-only").stdout == ""


def test_the_hook_still_fixes_a_moved_link_the_user_staged(work: Path) -> None:
    text = os.readlink(work / "new.txt")
    (work / "sub").mkdir()
    ok(git(work, "mv", "new.txt", "sub/new.txt"))
    proc = ok(git(work, "commit", "-m", "move"))
    assert "fixed 1 link(s)" in proc.stderr
    assert git(work, "show", "HEAD:sub/new.txt").stdout == "../" + text


@pytest.mark.parametrize("cache", ["same", "fresh"])
def test_a_plain_git_clone_commits_before_get(work: Path, tmp_path: Path, cache: str) -> None:
    """The origin is only in the commit trailers there; the links dangle (no anchor yet). With the
    same cache the cached manifests vouch for the keys; with a fresh one, HEAD does."""
    env = {"SELENITE_CACHE": str(tmp_path / "fresh-cache")} if cache == "fresh" else {}
    plain = tmp_path / "plain"
    ok(git(tmp_path, "clone", "-q", str(work), str(plain)))
    selenite("hooks", "install", cwd=plain, env=env)
    assert ok(git(plain, "config", "filter.selenite.required")).stdout.strip() == "true"  # and the filter
    assert not (plain / "a.txt").exists()  # dangling
    (plain / "notes.txt").write_text("notes\n")
    ok(git(plain, "add", "notes.txt"))
    ok(git(plain, "commit", "-m", "notes", env=env))
    ok(git(plain, "mv", "v3.txt", "renamed.txt"))  # a dangling link the user moves: HEAD vouches for it too
    ok(git(plain, "commit", "-m", "rename", env=env))

    # a new link to content nobody holds is still refused
    bogus = "MD5E-s5--0123456789abcdef0123456789abcdef.txt"
    (plain / "bogus.txt").symlink_to(f".git/selenite/objects/01/23/{bogus}/{bogus}")
    ok(git(plain, "add", "bogus.txt"))
    proc = git(plain, "commit", "-m", "bogus", env=env)
    assert proc.returncode == 1 and "bogus.txt: link to" in proc.stderr and "a.txt" not in proc.stderr


def test_a_malformed_selenite_url_stops_only_commands_that_need_a_registry(work: Path) -> None:
    env = {"SELENITE_URL": "localhost:8787"}
    (work / "notes.txt").write_text("notes\n")
    ok(git(work, "add", "notes.txt"))
    ok(git(work, "commit", "-m", "notes", env=env))
    for args in (["status"], ["check"], ["gc", "--dry-run"], ["hook", "pre-commit"], ["fsck"]):
        selenite(*args, cwd=work, env=env)
    proc = selenite("ls", "test", cwd=work, env=env, check=False)
    assert proc.returncode == 1
    assert proc.stderr.strip().splitlines() == [
        "selenite: error: registry URL 'localhost:8787' must start with http:// or https://"]
