"""Git stores pointers, never data (issue 12, item 15), with real git and a real `selenite serve`:
the README's workflow (`selenite unlock`, edit, `git commit -am`) keeps `.git` small, push publishes
the edited bytes from the working tree, and a plain `git clone` plus `selenite get` gets them back."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from selenite.keys import Key
from selenite.tree.pointers import parse_pointer, pointer, read_pointer_file
from tests.support.cli import selenite
from tests.support.registry import Registry
from tests.support.seed import create_project, upload_version

pytestmark = pytest.mark.parametrize("registry", ["folder"], indirect=True)
MiB = 1 << 20


def git(cwd: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, timeout=300,
                          env={**os.environ, **(env or {})})
    assert proc.returncode == 0, f"git {args} exited {proc.returncode}\n{proc.stdout}\n{proc.stderr}"
    return proc


def git_bytes(cwd: Path) -> int:
    """What the object database holds, loose and packed (`git count-objects -v`, in bytes)."""
    fields = dict(line.split(": ") for line in git(cwd, "count-objects", "-v").stdout.splitlines())
    return (int(fields["size"]) + int(fields["size-pack"])) * 1024


@pytest.fixture
def work(registry: Registry, tmp_path: Path) -> Path:
    create_project(registry, "test")
    upload_version(registry, tmp_path, "v1", {"big.bin": os.urandom(3 * MiB), "small.txt": b"small\n"}, asset="ds")
    selenite("clone", "test/ds@v1", tmp_path / "work", "--url", registry.url, cwd=tmp_path)
    return tmp_path / "work"


def test_an_edited_file_is_committed_as_a_pointer_and_published_from_the_tree(
        registry: Registry, work: Path, tmp_path: Path) -> None:
    before = git_bytes(work)
    selenite("unlock", "big.bin", cwd=work)
    with open(work / "big.bin", "ab") as f:
        f.write(b"appended line\n")
    edited = (work / "big.bin").read_bytes()
    git(work, "commit", "-qam", "fix big")
    assert git_bytes(work) - before < 64 * 1024  # not the 3 MiB
    stored = subprocess.run(["git", "show", "HEAD:big.bin"], cwd=work, capture_output=True, check=True).stdout
    key = parse_pointer(stored)
    assert key is not None and key.size == len(edited)
    assert (work / "big.bin").read_bytes() == edited and not (work / "big.bin").is_symlink()
    status = git(work, "status", "--porcelain")
    assert status.stdout == "" and status.stderr == ""
    assert "modified" in selenite("status", cwd=work).stdout

    # gc keeps the object a committed pointer names (nothing else holds those bytes yet), and a
    # checkout gets them back from the cache
    selenite("gc", cwd=work)
    (work / "big.bin").unlink()
    git(work, "checkout", "--", "big.bin")
    assert (work / "big.bin").read_bytes() == edited

    # push reads the user's bytes from the tree and publishes them
    selenite("push", "--version", "v2", "--token", registry.admin_token, cwd=work)
    fresh = tmp_path / "fresh"
    selenite("clone", "test/ds@v2", fresh, "--url", registry.url, cwd=tmp_path,
             env={"SELENITE_CACHE": str(tmp_path / "cache-fresh")})
    assert (fresh / "big.bin").read_bytes() == edited

    # a plain `git clone` of the working repository, on a machine whose cache never saw the data:
    # at the edit commit Git checks out the pointer, which `selenite get` fills from the registry
    plain = tmp_path / "plain"
    git(tmp_path, "clone", "-q", str(work), str(plain))
    env = {"SELENITE_CACHE": str(tmp_path / "cache-plain")}
    # (the push moved the branch to v2's version commit; the edit commit is the pushed ref's)
    git(plain, "fetch", "-q", "origin", "refs/selenite/pushed/v2:refs/heads/edit")
    git(plain, "checkout", "-q", "edit")
    assert read_pointer_file(plain / "big.bin") == key
    assert "content missing" in selenite("status", cwd=plain, env=env).stdout
    selenite("get", cwd=plain, env=env)
    assert (plain / "big.bin").read_bytes() == edited
    status = git(plain, "status", "--porcelain")
    assert status.stdout == "" and status.stderr == ""
    # `get` set the filter up there too: going back to the pushed version and forth again smudges
    git(plain, "checkout", "-q", "-")
    assert (plain / "big.bin").is_symlink()
    selenite("get", cwd=plain, env=env)
    assert (plain / "big.bin").read_bytes() == edited
    git(plain, "checkout", "-q", "edit")
    assert not (plain / "big.bin").is_symlink() and (plain / "big.bin").read_bytes() == edited


def test_a_new_file_is_committed_as_a_pointer_and_git_files_as_bytes(work: Path) -> None:
    (work / "new.bin").write_bytes(os.urandom(MiB))
    (work / ".gitignore").write_text("*.tmp\n")
    git(work, "add", "new.bin", ".gitignore")
    git(work, "commit", "-qm", "new")
    assert parse_pointer(git(work, "show", "HEAD:new.bin").stdout.encode()) is not None
    assert git(work, "show", "HEAD:.gitignore").stdout == "*.tmp\n"
    assert git(work, "ls-files", "-s", "big.bin").stdout.startswith("120000 ")  # links are never filtered


def test_push_of_a_pointer_file_links_to_its_content_and_never_uploads_the_pointer(
        registry: Registry, work: Path, tmp_path: Path) -> None:
    """A pointer file (Git checked it out without the filter, content not filled in) is a link to
    its key for push, never its text as data."""
    selenite("unlock", "small.txt", cwd=work)
    git(work, "commit", "-qam", "small.txt as a file")  # HEAD holds a pointer to v1's small.txt
    plain = tmp_path / "plain"
    git(tmp_path, "clone", "-q", str(work), str(plain))
    assert read_pointer_file(plain / "small.txt") is not None
    (plain / "other.txt").write_text("other\n")
    env = {"SELENITE_CACHE": str(tmp_path / "cache-plain")}
    uploads = registry.uploaded_files()
    proc = selenite("push", "--version", "v2", "--token", registry.admin_token, cwd=plain, env=env)
    assert "1 uploaded" in proc.stdout and registry.uploaded_files() == uploads + 1  # other.txt only
    fresh = tmp_path / "fresh"
    selenite("clone", "test/ds@v2", fresh, "--url", registry.url, cwd=tmp_path,
             env={"SELENITE_CACHE": str(tmp_path / "cache-fresh")})
    assert (fresh / "small.txt").read_bytes() == b"small\n"
    assert (fresh / "other.txt").read_bytes() == b"other\n"


@pytest.mark.parametrize("mode", ["hardlink", "copy"])
def test_hardlink_and_copy_trees_keep_their_record_in_git(registry: Registry, work: Path, tmp_path: Path,
                                                          mode: str) -> None:
    tree = tmp_path / mode
    selenite("clone", "test/ds@v1", tree, "--url", registry.url, "--link-mode", mode, cwd=tmp_path)
    record = git(tree, "show", "HEAD:.selenite/tree.json").stdout
    assert '"big.bin"' in record  # the record itself, never a pointer
    (tree / "small.txt").unlink()
    (tree / "small.txt").write_text("edited\n")
    selenite("push", "--version", f"{mode}1", "--token", registry.admin_token, cwd=tree)
    assert '"small.txt"' in git(tree, "show", "HEAD:.selenite/tree.json").stdout
    assert git(tree, "status", "--porcelain").stdout == ""


def test_the_hook_takes_a_pointer_file_for_a_link_to_its_key(work: Path, tmp_path: Path) -> None:
    """`selenite status` calls a pointer file `content missing`, as a dangling link; the hook judges
    it as one: fine when HEAD or a known version holds its key, refused when nothing does."""
    selenite("unlock", "small.txt", cwd=work)
    git(work, "commit", "-qam", "small.txt as a file")  # HEAD holds a pointer
    plain = tmp_path / "plain"
    git(tmp_path, "clone", "-q", str(work), str(plain))
    env = {"SELENITE_CACHE": str(tmp_path / "cache-plain")}  # a machine that never saw the data
    selenite("hooks", "install", cwd=plain, env=env)
    git(plain, "mv", "small.txt", "moved.txt")
    git(plain, "commit", "-qm", "move a pointer file", env=env)
    bogus = Key("0123456789abcdef0123456789abcdef", 5, ".txt")
    (plain / "bogus.txt").write_bytes(pointer(bogus))
    git(plain, "add", "bogus.txt")
    proc = subprocess.run(["git", "commit", "-qm", "bogus"], cwd=plain, capture_output=True, text=True,
                          env={**os.environ, **env})
    assert proc.returncode == 1 and f"bogus.txt: link to {bogus.name}" in proc.stderr
    assert "moved.txt" not in proc.stderr
