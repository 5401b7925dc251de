"""`selenite push` end to end: a real `selenite serve`, real git, and the real gypsum_client."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import time
from pathlib import Path

import gypsum_client as gc
import pytest
import requests

from selenite.tree.pointers import parse_pointer
from tests.support.cli import selenite
from tests.support.registry import Registry


def seed(registry: Registry, tmp_path: Path, files: dict[str, bytes], project: str = "proj", asset: str = "data",
         version: str = "v1") -> None:
    """Create the project (if needed) and upload ``files`` as a version with the real gypsum_client."""
    if project not in gc.list_projects(url=registry.url):
        gc.create_project(project, owners=["admin"], url=registry.url, token=registry.admin_token)
    src = tmp_path / f"seed-{project}-{asset}-{version}"
    for rel, data in files.items():
        (src / rel).parent.mkdir(parents=True, exist_ok=True)
        (src / rel).write_bytes(data)
    gc.upload_directory(str(src), project, asset, version, url=registry.url, token=registry.admin_token,
                        cache_dir=str(tmp_path / "gypsum-cache"))


def tree_bytes(root: Path) -> dict[str, bytes | None]:
    """Every file of a tree with its bytes (None for a dangling link: content not fetched)."""
    out: dict[str, bytes | None] = {}
    for dirpath, dirs, files in os.walk(root):
        dirs[:] = [d for d in dirs if d != ".git"]
        for name in files:
            full = Path(dirpath, name)
            out[full.relative_to(root).as_posix()] = full.read_bytes() if full.exists() else None
    return out


def uploaded_bytes(registry: Registry) -> int:
    return registry.uploaded_bytes()  # on S3: bytes that landed in the bucket; the server got none


def git(*args: str, cwd: Path) -> str:
    proc = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True)
    assert proc.returncode == 0, f"git {' '.join(args)} failed:\n{proc.stdout}{proc.stderr}"
    return proc.stdout


@pytest.fixture
def two_hundred(registry: Registry, tmp_path: Path) -> dict[str, bytes]:
    files = {f"part{i // 50}/file{i:03d}.txt": f"line {i}\n".encode() * (i + 1) for i in range(200)}
    seed(registry, tmp_path, files)
    return files


def _edit(work: Path) -> tuple[int, dict[str, bytes]]:
    """Change one file, add one, delete one, rename one link; return (new bytes, expected tree)."""
    selenite("unlock", "part0/file000.txt", cwd=work)
    changed = b"an edited first file\n" * 10
    (work / "part0/file000.txt").write_bytes(changed)
    added = b"a brand new file\n" * 7
    (work / "added.csv").write_bytes(added)
    git("rm", "-q", "part1/file050.txt", cwd=work)
    (work / "renamed").mkdir()
    git("mv", "part2/file100.txt", "renamed/file100.txt", cwd=work)
    git("mv", "part3/file150.txt", "top150.txt", cwd=work)  # a move to another depth breaks the link text
    git("add", "-A", cwd=work)
    git("commit", "-qm", "edit", cwd=work)
    return len(changed) + len(added), tree_bytes(work)


def test_push_moves_only_changed_bytes(registry: Registry, two_hundred: dict[str, bytes], tmp_path: Path) -> None:
    work = tmp_path / "work"
    selenite("clone", "proj/data", work, "--url", registry.url)
    new_bytes, expected = _edit(work)
    before = uploaded_bytes(registry)
    out = selenite("push", "--token", registry.admin_token, cwd=work).stdout
    assert uploaded_bytes(registry) - before == new_bytes
    assert "pushed proj/data/v2" in out and "2 uploaded" in out

    manifest = gc.fetch_manifest("proj", "data", "v2", url=registry.url, cache_dir=None)
    assert set(manifest) == set(expected)
    links = {p for p, e in manifest.items() if "link" in e}
    assert links == set(expected) - {"part0/file000.txt", "added.csv"}
    assert manifest["renamed/file100.txt"]["link"]["path"] == "part2/file100.txt"
    assert manifest["top150.txt"]["link"]["path"] == "part3/file150.txt"

    # The tree is clean and committed, every file a link again, tagged v2.
    assert selenite("status", cwd=work).stdout.strip() == ""
    assert git("status", "--porcelain", cwd=work) == ""
    assert all((work / p).is_symlink() for p in expected)
    assert "v2" in git("tag", cwd=work).split()

    fresh = tmp_path / "fresh"
    selenite("clone", "proj/data@v2", fresh, "--url", registry.url)
    assert tree_bytes(fresh) == expected


def test_push_after_lazy_clone_links_the_rest(
    registry: Registry, two_hundred: dict[str, bytes], tmp_path: Path
) -> None:
    work = tmp_path / "lazy"
    selenite("clone", "proj/data", work, "--no-download", "--url", registry.url)
    gets = registry.stats()["file_get"]
    selenite("get", "part0/file000.txt", cwd=work)
    assert registry.stats()["file_get"] - gets == 1
    new_bytes, expected = _edit(work)
    before = uploaded_bytes(registry)
    selenite("push", "--token", registry.admin_token, cwd=work)
    assert uploaded_bytes(registry) - before == new_bytes
    manifest = gc.fetch_manifest("proj", "data", "v2", url=registry.url, cache_dir=None)
    assert sum("link" in e for e in manifest.values()) == len(manifest) - 2
    fresh = tmp_path / "fresh"
    selenite("clone", "proj/data@v2", fresh, "--url", registry.url)
    # The lazy tree only holds what was fetched or written; the fresh clone has everything.
    assert tree_bytes(fresh)["added.csv"] == expected["added.csv"]
    assert tree_bytes(fresh)["part0/file000.txt"] == expected["part0/file000.txt"]
    assert tree_bytes(fresh)["part3/file199.txt"] == two_hundred["part3/file199.txt"]


def test_push_from_a_gypsum_client_clone(registry: Registry, tmp_path: Path) -> None:
    files = {"a.txt": b"alpha\n" * 100, "b/c.txt": b"charlie\n" * 100, "d.bin": os.urandom(5000)}
    seed(registry, tmp_path, files)
    gcache = tmp_path / "gypsum-cache"
    folder = tmp_path / "gyp"
    gc.clone_version("proj", "data", "v1", str(folder), download=True, cache_dir=str(gcache), url=registry.url)
    assert (folder / "a.txt").is_symlink()
    os.unlink(folder / "a.txt")
    (folder / "a.txt").write_bytes(b"alpha edited\n")
    before = uploaded_bytes(registry)
    selenite("push", "--url", registry.url, "--token", registry.admin_token, cwd=folder)
    assert uploaded_bytes(registry) - before == len(b"alpha edited\n")
    manifest = gc.fetch_manifest("proj", "data", "v2", url=registry.url, cache_dir=None)
    assert "link" in manifest["b/c.txt"] and "link" in manifest["d.bin"] and "link" not in manifest["a.txt"]
    # The folder is now a selenite working tree: clean, all links into the selenite cache.
    assert selenite("status", cwd=folder).stdout.strip() == ""
    assert (folder / "d.bin").read_bytes() == files["d.bin"]


def test_dry_run_changes_nothing(registry: Registry, two_hundred: dict[str, bytes], tmp_path: Path) -> None:
    work = tmp_path / "work"
    selenite("clone", "proj/data", work, "--url", registry.url)
    _edit(work)

    def snapshot() -> tuple[object, ...]:
        reg = registry.list_raw()
        cache = sorted(str(p) for p in Path(os.environ["SELENITE_CACHE"]).rglob("*"))
        tree = sorted((k, v) for k, v in tree_bytes(work).items())
        links = sorted((str(p), os.readlink(p)) for p in work.rglob("*") if p.is_symlink() and ".git" not in p.parts)
        return reg, cache, tree, links, git("status", "--porcelain", cwd=work), git("log", "--oneline", cwd=work)

    before = snapshot()
    out = selenite("push", "--dry-run", "--token", registry.admin_token, cwd=work).stdout
    assert "links" in out and "uploads" in out and "deleted" in out
    assert "dedup          2 files" in out
    assert snapshot() == before
    assert gc.list_versions("proj", "data", url=registry.url) == ["v1"]


def test_nothing_changed(registry: Registry, tmp_path: Path) -> None:
    seed(registry, tmp_path, {"x.txt": b"x\n", "y.txt": b"y\n"})
    work = tmp_path / "work"
    selenite("clone", "proj/data", work, "--url", registry.url)
    res = selenite("push", "--token", registry.admin_token, cwd=work)
    assert "nothing to push" in res.stderr
    assert gc.list_versions("proj", "data", url=registry.url) == ["v1"]
    # With --version the same tree is published under a new name, as links only.
    before = uploaded_bytes(registry)
    selenite("push", "--version", "release-1", "--token", registry.admin_token, cwd=work)
    assert uploaded_bytes(registry) == before
    manifest = gc.fetch_manifest("proj", "data", "release-1", url=registry.url, cache_dir=None)
    assert all("link" in e for e in manifest.values())


@pytest.mark.backends("folder")
def test_a_session_file_that_is_not_a_json_object_is_dropped(registry: Registry, tmp_path: Path) -> None:
    # Regression (structure review C10): valid JSON that is not an object crashed push (exit 3).
    seed(registry, tmp_path, {"x.txt": b"x\n"})
    work = tmp_path / "work"
    selenite("clone", "proj/data", work, "--url", registry.url)
    (work / ".git" / "selenite" / "push-session.json").write_text("[1, 2]")
    (work / "new.txt").write_bytes(b"n\n")
    res = selenite("push", "--token", registry.admin_token, cwd=work)
    assert "pushed proj/data/v2" in res.stdout
    assert not (work / ".git" / "selenite" / "push-session.json").exists()


def test_version_name_needs_flag_when_not_numbered(registry: Registry, tmp_path: Path) -> None:
    seed(registry, tmp_path, {"x.txt": b"x\n"}, version="2024-01")
    work = tmp_path / "work"
    selenite("clone", "proj/data", work, "--url", registry.url)
    (work / "new.txt").write_bytes(b"n\n")
    res = selenite("push", "--token", registry.admin_token, cwd=work, check=False)
    assert res.returncode == 1
    assert "--version" in res.stderr and "Traceback" not in res.stderr
    assert len(res.stderr.strip().splitlines()) == 1


def test_server_killed_mid_push(registry: Registry, tmp_path: Path) -> None:
    seed(registry, tmp_path, {"keep.txt": b"keep\n"})
    work = tmp_path / "work"
    selenite("clone", "proj/data", work, "--url", registry.url)
    for i in range(6):
        (work / f"big{i}.bin").write_bytes(os.urandom(4 << 20))
    env = {**os.environ}
    proc = subprocess.Popen(
        [sys.executable, "-m", "selenite", "push", "-j", "1", "--token", registry.admin_token],
        cwd=work, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
    )
    deadline = time.monotonic() + 60
    while registry.uploaded_files() < 2:  # S3: the files land in the bucket, not in the server
        assert time.monotonic() < deadline and proc.poll() is None, "push never started uploading"
        time.sleep(0.01)
    registry.kill()
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 1
    assert len(err.strip().splitlines()) == 1 and "push of proj/data/v2 failed" in err, err

    registry.start()
    assert gc.fetch_latest("proj", "data", url=registry.url) == "v1"
    out = selenite("push", "--token", registry.admin_token, cwd=work).stdout
    assert "pushed proj/data/v2" in out
    assert requests.get(f"{registry.url}/file/proj%2F..LOCK", timeout=5).status_code == 404
    manifest = gc.fetch_manifest("proj", "data", "v2", url=registry.url, cache_dir=None)
    assert len(manifest) == 7 and "link" in manifest["keep.txt"]
    assert selenite("status", cwd=work).stdout.strip() == ""


def test_uncommitted_changes_become_one_commit_of_pointers(
    registry: Registry, two_hundred: dict[str, bytes], tmp_path: Path
) -> None:
    """What the user had not committed is kept as one commit of theirs, as `git add -A` would have
    made it (new data files as pointers, Git's own files as bytes, an executable one 100755),
    though push stages the new files' pointers without reading them through the filter again."""
    work = tmp_path / "work"
    selenite("clone", "proj/data", work, "--url", registry.url)
    (work / "new").mkdir()
    new = {f"new/f{i}.bin": os.urandom(100 + i) for i in range(3)}
    for rel, data in new.items():
        (work / rel).write_bytes(data)
    (work / "run.sh").write_bytes(b"#!/bin/sh\necho hi\n")
    os.chmod(work / "run.sh", 0o755)
    (work / ".gitignore").write_text("*.tmp\n")
    os.unlink(work / "part1/file050.txt")
    selenite("push", "-m", "mine", "--token", registry.admin_token, cwd=work)

    assert git("status", "--porcelain", cwd=work) == ""
    assert all((work / p).is_symlink() for p in [*new, "run.sh"])
    local = git("rev-parse", "refs/selenite/pushed/v2", cwd=work).strip()
    assert git("log", "-1", "--format=%s", local, cwd=work).strip() == "mine"
    for rel, data in new.items():
        key = parse_pointer(git("show", f"{local}:{rel}", cwd=work).encode())
        assert key is not None and key.size == len(data) and key.md5 == hashlib.md5(data).hexdigest()
    assert git("ls-tree", local, "run.sh", cwd=work).startswith("100755 blob ")
    assert parse_pointer(git("show", f"{local}:run.sh", cwd=work).encode()) is not None
    assert git("show", f"{local}:.gitignore", cwd=work) == "*.tmp\n"
    assert "part1/file050.txt" not in git("ls-tree", "-r", "--name-only", local, cwd=work).split()
