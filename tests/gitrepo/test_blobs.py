"""Reading blobs and trees (``selenite.gitrepo.blobs``): a fixed number of git calls per question."""

from __future__ import annotations

import subprocess
from pathlib import Path

from selenite import gitrepo
from selenite.gitrepo import blobs


def _git(cwd: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True).stdout


def test_blob_ids_and_sizes_agree_with_git(repo: Path) -> None:
    (repo / "a.bin").write_bytes(b"\x00" * 300)
    sha = _git(repo, "hash-object", "-w", "a.bin").strip()
    assert gitrepo.blob_id(b"\x00" * 300, gitrepo.id_algo(sha)) == sha
    assert blobs.blob_sizes(repo, [sha, "0" * 40]) == {sha: 300}
    assert blobs.blob_sizes(repo, []) == {}


def test_link_texts_read_only_what_changed(repo: Path) -> None:
    (repo / "d").mkdir()
    (repo / "d" / "l").symlink_to("../target")
    (repo / "m").symlink_to("elsewhere")
    (repo / "f").write_text("plain\n")
    _git(repo, "add", "-A")
    _git(repo, "commit", "-q", "-m", "one")
    assert blobs.link_texts(repo, "HEAD") == {"d/l": "../target", "m": "elsewhere"}
    # A known text that hashes to the committed blob is taken as is; a wrong one is read from git.
    assert blobs.link_texts(repo, "HEAD", {"d/l": "../target", "m": "stale"}) == {"d/l": "../target", "m": "elsewhere"}


def test_symlinks_versions_and_small_files_of_commits_and_index(repo: Path) -> None:
    (repo / "l").symlink_to("one")
    (repo / "f").write_text("v1\n")
    (repo / "big").write_bytes(b"x" * 1000)
    _git(repo, "add", "-A")
    _git(repo, "commit", "-q", "-m", "one")
    (repo / "f").write_text("v2\n")
    _git(repo, "add", "f")
    assert blobs.symlinks_in(repo, ["HEAD"]) == {("l", "one")}
    assert sorted(blobs.file_versions(repo, ["HEAD"], "f", index=True)) == [b"v1\n", b"v2\n"]
    assert sorted(blobs.small_file_blobs(repo, 100)) == [b"v1\n", b"v2\n"]
    assert gitrepo.head(repo) is not None
