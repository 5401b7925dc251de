"""The pre-commit hook end to end: a real registry, a real clone (which installs the hook), real
commits, `selenite fsck --repair`, and the real pre-commit framework."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

import pytest

from selenite.hook.install import is_ours
from selenite.tree.pointers import parse_pointer
from tests.support.cli import selenite
from tests.support.git import ok
from tests.support.git import run_git as git
from tests.support.registry import Registry
from tests.support.seed import seed_three_versions

VENV_BIN = Path(sys.executable).parent
# The hook reads only the local cache and git; the registry's storage backend cannot change what
# it decides, so these run against the folder backend only (the S3 runs would double the time).
pytestmark = pytest.mark.parametrize("registry", ["folder"], indirect=True)


@pytest.fixture
def seeded(registry: Registry, tmp_path: Path) -> dict[str, dict[str, bytes]]:
    return seed_three_versions(registry, tmp_path)


@pytest.fixture
def work(registry: Registry, seeded: dict[str, dict[str, bytes]], tmp_path: Path) -> Path:
    """A clone of test/blob@v3, with the hook that clone installs."""
    selenite("clone", "test/blob@v3", tmp_path / "work", "--url", registry.url, cwd=tmp_path)
    return tmp_path / "work"


def write_through(link: Path, data: bytes) -> Path:
    obj = link.resolve()
    os.chmod(obj, 0o644)  # root (these tests) or anyone after chmod +w: read-only bits stop nothing
    with open(link, "r+b") as f:
        f.write(data)
    return obj


def commit_through_the_hook(work: Path, message: str) -> None:
    """Commit, and check that Git ran selenite's hook and the hook let the commit through."""
    assert is_ours(work / ".git" / "hooks" / "pre-commit")
    proc = ok(git(work, "commit", "-m", message, env={"GIT_TRACE": "1"}))
    assert "hooks/pre-commit" in proc.stderr, proc.stderr  # git's trace names each hook it runs


def test_clone_installs_the_hook(work: Path) -> None:
    assert is_ours(work / ".git" / "hooks" / "pre-commit")


def test_edit_through_a_link_fails_the_commit_until_fsck_repair(
    work: Path, seeded: dict[str, dict[str, bytes]]
) -> None:
    original = seeded["v3"]["new.txt"]
    obj = write_through(work / "new.txt", b"NEW")  # same size: nothing but the hash can tell
    edited = obj.read_bytes()
    assert git(work, "status", "--porcelain").stdout == ""  # Git sees nothing at all
    (work / "notes.md").write_text("my notes\n")
    ok(git(work, "add", "notes.md"))
    head = git(work, "rev-parse", "HEAD").stdout

    proc = git(work, "commit", "-m", "notes")
    assert proc.returncode == 1
    assert "new.txt:" in proc.stderr and "no longer matches" in proc.stderr
    assert "selenite fsck --repair" in proc.stderr
    assert "a.txt" not in proc.stderr
    assert git(work, "rev-parse", "HEAD").stdout == head  # nothing committed

    selenite("fsck", "--repair", cwd=work)
    assert not (work / "new.txt").is_symlink()
    assert (work / "new.txt").read_bytes() == edited  # the user's bytes, kept as a real file
    assert hashlib.md5(obj.read_bytes()).hexdigest() == hashlib.md5(original).hexdigest()  # object intact
    ok(git(work, "add", "new.txt"))
    ok(git(work, "commit", "-m", "notes and my edit"))
    committed = parse_pointer(git(work, "show", "HEAD:new.txt").stdout.encode())  # Git holds a pointer
    assert committed is not None and committed.content() == (hashlib.md5(edited).hexdigest(), len(edited))


def test_sanctioned_changes_commit(work: Path) -> None:
    selenite("unlock", "a.txt", cwd=work)  # the sanctioned edit: a writable copy
    (work / "a.txt").write_text("edited\n")
    (work / "b.txt").write_text("a new file\n")
    ok(git(work, "rm", "-q", "v3.txt"))
    ok(git(work, "mv", "new.txt", "renamed.txt"))  # a moved link, same folder: same text
    ok(git(work, "add", "-A"))
    commit_through_the_hook(work, "edits")


def test_moved_link_into_a_folder_with_its_text_fixed_commits(work: Path) -> None:
    text = os.readlink(work / "new.txt")
    (work / "sub").mkdir()
    (work / "new.txt").unlink()
    (work / "sub" / "new.txt").symlink_to("../" + text)
    ok(git(work, "add", "-A"))
    commit_through_the_hook(work, "move")


def test_retargeted_and_destroyed_links_fail(work: Path, tmp_path: Path) -> None:
    (tmp_path / "elsewhere.txt").write_text("not in the cache\n")
    (work / "a.txt").unlink()
    (work / "a.txt").symlink_to(tmp_path / "elsewhere.txt")
    text = os.readlink(work / "v3.txt")
    (work / "v3.txt").unlink()
    (work / "v3.txt").write_text(text)  # what a tool that copies links as text leaves
    proc = git(work, "commit", "-am", "bad")
    assert proc.returncode == 1
    assert "a.txt: absolute link" in proc.stderr
    assert "v3.txt: a regular file holding only the text of a link" in proc.stderr


def test_lazy_clone_with_dangling_links_commits(registry: Registry, seeded: dict[str, dict[str, bytes]],
                                                tmp_path: Path) -> None:
    lazy = tmp_path / "lazy"
    selenite("clone", "test/blob@v3", lazy, "--url", registry.url, "--no-download", cwd=tmp_path)
    assert not (lazy / "v3.txt").exists() and (lazy / "v3.txt").is_symlink()
    registry.stop()  # the hook needs no network: cached manifests say the registry holds the keys
    (lazy / "x.txt").write_text("x\n")
    ok(git(lazy, "add", "x.txt"))
    ok(git(lazy, "commit", "-m", "x"))


def test_an_existing_hook_still_runs_after_hooks_install(work: Path) -> None:
    hook = work / ".git" / "hooks" / "pre-commit"
    selenite("hooks", "uninstall", cwd=work)
    assert not hook.exists()
    hook.write_text('#!/bin/sh\necho "team hook ran" >&2\ntest ! -e "$(git rev-parse --show-toplevel)/BLOCK"\n')
    hook.chmod(0o755)
    selenite("hooks", "install", cwd=work)
    (work / "n.txt").write_text("n\n")
    ok(git(work, "add", "n.txt"))
    proc = ok(git(work, "commit", "-m", "n"))
    assert "team hook ran" in proc.stderr
    (work / "BLOCK").write_text("")
    ok(git(work, "add", "BLOCK"))
    assert git(work, "commit", "-m", "blocked").returncode == 1  # its failure fails the commit
    write_through(work / "a.txt", b"ALPHA\n")
    (work / "BLOCK").unlink()
    proc = git(work, "commit", "-am", "through")
    assert proc.returncode == 1 and "team hook ran" in proc.stderr and "a.txt:" in proc.stderr


# --- the pre-commit framework ------------------------------------------------------------------

# `repo: local` + `language: system` runs selenite from this virtualenv, offline. The published
# form (`repo: <this project>` + `language: python`, from .pre-commit-hooks.yaml) makes the
# framework pip-install selenite and its dependencies into a fresh environment, which needs the
# network; its manifest is checked with the framework's own validator instead.
LOCAL_CONFIG = """\
repos:
  - repo: local
    hooks:
      - id: selenite-check
        name: selenite check
        entry: {selenite} hook pre-commit
        language: system
        always_run: true
        pass_filenames: false
        stages: [pre-commit]
"""


def pre_commit_env(tmp_path: Path) -> dict[str, str]:
    return {"PRE_COMMIT_HOME": str(tmp_path / "pre-commit-home"), "PATH": f"{VENV_BIN}:{os.environ['PATH']}"}


def test_pre_commit_framework_rejects_and_accepts_the_same_commits(
    work: Path, seeded: dict[str, dict[str, bytes]], tmp_path: Path
) -> None:
    env = pre_commit_env(tmp_path)
    selenite("hooks", "uninstall", cwd=work)  # the framework owns .git/hooks/pre-commit here
    (work / ".pre-commit-config.yaml").write_text(LOCAL_CONFIG.format(selenite=VENV_BIN / "selenite"))
    ok(subprocess.run([str(VENV_BIN / "pre-commit"), "install"], cwd=work, capture_output=True, text=True,
                      env={**os.environ, **env}))
    assert not is_ours(work / ".git" / "hooks" / "pre-commit")
    ok(git(work, "add", ".pre-commit-config.yaml"))
    ok(git(work, "commit", "-m", "use pre-commit", env=env))

    # accepted: an unlocked edit, a new file, a deleted file, a moved link
    selenite("unlock", "a.txt", cwd=work)
    (work / "a.txt").write_text("edited\n")
    (work / "extra.txt").write_text("extra\n")
    ok(git(work, "rm", "-q", "v3.txt"))
    ok(git(work, "mv", "new.txt", "renamed.txt"))
    ok(git(work, "add", "-A"))
    ok(git(work, "commit", "-m", "fine", env=env))

    # rejected: an edit through a link, invisible to git status
    obj = write_through(work / "renamed.txt", b"NEW")
    assert git(work, "status", "--porcelain").stdout == ""
    (work / "more.txt").write_text("more\n")
    ok(git(work, "add", "more.txt"))
    proc = git(work, "commit", "-m", "through", env=env)
    assert proc.returncode == 1
    out = proc.stdout + proc.stderr
    assert "selenite check" in out and "Failed" in out and "renamed.txt:" in out
    selenite("fsck", "--repair", cwd=work)
    assert obj.read_bytes() == seeded["v3"]["new.txt"]  # the object is restored
    assert (work / "renamed.txt").read_bytes().startswith(b"NEW")  # and the edit kept as a real file
    ok(git(work, "add", "-A"))
    ok(git(work, "commit", "-m", "kept my edit", env=env))

    # rejected: a link retargeted outside the cache, and a destroyed link
    (work / "moved").joinpath("c.csv").unlink()
    (work / "moved" / "c.csv").symlink_to("/etc/hostname")
    ok(git(work, "add", "-A"))
    proc = git(work, "commit", "-m", "outside", env=env)
    assert proc.returncode == 1 and "moved/c.csv: absolute link" in proc.stdout + proc.stderr
    ok(git(work, "checkout", "HEAD", "--", "moved/c.csv"))
    text = os.readlink(work / "moved" / "c.csv")
    (work / "moved" / "c.csv").unlink()
    (work / "moved" / "c.csv").write_text(text)
    proc = git(work, "commit", "-am", "destroyed", env=env)
    assert (
        proc.returncode == 1
        and "moved/c.csv: a regular file holding only the text of a link" in proc.stdout + proc.stderr
    )


def test_pre_commit_framework_chains_a_selenite_hook_without_running_it_twice_over(work: Path, tmp_path: Path) -> None:
    """`pre-commit install` over selenite's hook moves it to pre-commit.legacy and runs it first;
    selenite's script must not then look for a legacy hook of its own (it would run itself)."""
    env = pre_commit_env(tmp_path)
    (work / ".pre-commit-config.yaml").write_text("repos: []\n")
    ok(subprocess.run([str(VENV_BIN / "pre-commit"), "install"], cwd=work, capture_output=True, text=True,
                      env={**os.environ, **env}))
    assert is_ours(work / ".git" / "hooks" / "pre-commit.legacy")
    ok(git(work, "add", ".pre-commit-config.yaml"))
    ok(git(work, "commit", "-m", "cfg", env=env))
    write_through(work / "a.txt", b"ALPHA\n")
    (work / "y.txt").write_text("y\n")
    ok(git(work, "add", "y.txt"))
    proc = git(work, "commit", "-m", "y", env=env)
    assert proc.returncode == 1 and "a.txt:" in proc.stderr


REMOTE_CONFIG = """\
repos:
  - repo: {repo}
    rev: {rev}
    hooks:
      - id: selenite-check
"""


def test_pre_commit_framework_installs_this_project_s_hook(work: Path, tmp_path: Path) -> None:
    """The form users copy from the README: `repo:` this project at a commit. The framework reads
    .pre-commit-hooks.yaml, builds its own environment (`language: python`, dependencies from PyPI)
    and runs the hook from there."""
    project = Path(__file__).resolve().parents[2]
    rev = subprocess.run(
        ["git", "rev-parse", "HEAD"], cwd=project, capture_output=True, text=True, check=True
    ).stdout.strip()
    env = pre_commit_env(tmp_path)
    selenite("hooks", "uninstall", cwd=work)
    (work / ".pre-commit-config.yaml").write_text(REMOTE_CONFIG.format(repo=project, rev=rev))
    ok(subprocess.run([str(VENV_BIN / "pre-commit"), "install"], cwd=work, capture_output=True, text=True,
                      env={**os.environ, **env}))
    ok(git(work, "add", ".pre-commit-config.yaml"))
    proc = git(work, "commit", "-m", "use pre-commit", env=env)  # the first run builds the hook's environment
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "selenite check" in proc.stdout + proc.stderr

    write_through(work / "a.txt", b"THROUGH THE LINK\n")
    (work / "z.txt").write_text("z\n")
    ok(git(work, "add", "z.txt"))
    proc = git(work, "commit", "-m", "through", env=env)
    assert proc.returncode == 1 and "a.txt:" in proc.stdout + proc.stderr
