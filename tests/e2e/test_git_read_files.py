"""Files Git itself reads (.gitignore, .gitattributes, .gitmodules, .mailmap) stay regular files in a
symlink tree, with real git and a real `selenite serve` (issue 12, item 12): Git does not follow
them as links, so as links the ignore rules stopped working, ignored files were committed and the
next push published them. They are still data: listed, published and cloned like any file."""

from __future__ import annotations

import hashlib
import subprocess
from pathlib import Path

import pytest

from selenite.keys import Key
from selenite.tree.links import link_text
from tests.support.cli import selenite
from tests.support.files import tree_files
from tests.support.registry import Registry
from tests.support.seed import create_project, upload_version

pytestmark = pytest.mark.parametrize("registry", ["folder"], indirect=True)


def git(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, f"git {args} exited {proc.returncode}\n{proc.stdout}\n{proc.stderr}"
    return proc


def published(registry: Registry, version: str, tmp_path: Path) -> dict[str, bytes]:
    """The files of ``test/ds@version`` as a fresh clone (own cache) sees them."""
    dest = tmp_path / f"check-{version}"
    selenite("clone", f"test/ds@{version}", dest, "--url", registry.url, cwd=tmp_path,
             env={"SELENITE_CACHE": str(tmp_path / f"cache-{version}")})
    return tree_files(dest)


def assert_regular(path: Path, data: bytes) -> None:
    assert not path.is_symlink(), f"{path} is a link"
    assert path.read_bytes() == data


def test_a_version_s_git_files_are_cloned_as_regular_files(registry: Registry, tmp_path: Path) -> None:
    create_project(registry, "test")
    files = {".gitignore": b"*.tmp\n", "sub/.gitattributes": b"*.csv text\n", ".mailmap": b"A <a@x>\n",
             "data.csv": b"x,y\n"}
    upload_version(registry, tmp_path, "v1", files, asset="ds")
    for how in ([], ["--no-download"]):
        work = tmp_path / f"work{len(how)}"
        selenite("clone", "test/ds@v1", work, "--url", registry.url, *how, cwd=tmp_path)
        for path in (".gitignore", "sub/.gitattributes", ".mailmap"):
            assert_regular(work / path, files[path])
        assert (work / "data.csv").is_symlink()
        (work / "junk.tmp").write_text("ignored\n")
        status = git(work, "status", "--porcelain")
        assert status.stdout == "" and status.stderr == ""  # ignored, and no "unable to access" warning
        assert selenite("status", cwd=work).stdout.split() == []  # nothing new, nothing modified
        assert git(work, "show", "HEAD:.gitignore").stdout == "*.tmp\n"  # Git holds the bytes, not a link


def test_push_keeps_git_files_regular_and_never_publishes_what_they_ignore(registry: Registry, tmp_path: Path) -> None:
    """The reviewer's reproduction: a .gitignore added to a tree, then two pushes."""
    create_project(registry, "test")
    upload_version(registry, tmp_path, "v1", {"data.csv": b"x,y\n"}, asset="ds")
    work = tmp_path / "work"
    selenite("clone", "test/ds@v1", work, "--url", registry.url, cwd=tmp_path)
    (work / ".gitignore").write_text("*.tmp\n")
    git(work, "add", ".gitignore")
    git(work, "commit", "-qm", "ignore tmp")
    (work / "x.tmp").write_text("secret\n")
    selenite(
        "push", "--version", "v2", cwd=work, env={"SELENITE_TOKEN": registry.admin_token, "SELENITE_URL": registry.url}
    )
    assert_regular(work / ".gitignore", b"*.tmp\n")
    status = git(work, "status", "--porcelain")
    assert status.stdout == "" and status.stderr == ""
    assert "x.tmp" not in git(work, "log", "--stat", "-1").stdout  # push's own commit left it out

    (work / ".gitignore").write_text("*.tmp\n*.log\n")  # an edit of a git file is published too
    (work / "more.csv").write_text("1,2\n")
    selenite(
        "push", "--version", "v3", cwd=work, env={"SELENITE_TOKEN": registry.admin_token, "SELENITE_URL": registry.url}
    )
    assert_regular(work / ".gitignore", b"*.tmp\n*.log\n")
    assert (work / "more.csv").is_symlink()
    got = published(registry, "v3", tmp_path)
    assert got == {".gitignore": b"*.tmp\n*.log\n", "data.csv": b"x,y\n", "more.csv": b"1,2\n"}
    assert published(registry, "v2", tmp_path) == {".gitignore": b"*.tmp\n", "data.csv": b"x,y\n"}
    proc = selenite("push", cwd=work, env={"SELENITE_TOKEN": registry.admin_token, "SELENITE_URL": registry.url})
    assert "nothing to push" in proc.stderr  # .gitignore, a regular file, counts as unchanged


def test_get_turns_a_git_file_an_older_selenite_linked_back_into_a_regular_file(
    registry: Registry, tmp_path: Path
) -> None:
    create_project(registry, "test")
    upload_version(registry, tmp_path, "v1", {".gitignore": b"*.tmp\n", "data.csv": b"x,y\n"}, asset="ds")
    work = tmp_path / "work"
    selenite("clone", "test/ds@v1", work, "--url", registry.url, cwd=tmp_path)
    (work / ".gitignore").unlink()  # as push used to leave it: a link into the cache
    (work / ".gitignore").symlink_to(link_text(".gitignore", Key(hashlib.md5(b"*.tmp\n").hexdigest(), 6)))
    assert (work / ".gitignore").read_bytes() == b"*.tmp\n"
    proc = selenite("get", cwd=work)
    assert "regular files again" in proc.stderr
    assert_regular(work / ".gitignore", b"*.tmp\n")
    (work / "x.tmp").write_text("ignored\n")
    status = git(work, "status", "--porcelain")
    assert status.stderr == "" and "x.tmp" not in status.stdout
