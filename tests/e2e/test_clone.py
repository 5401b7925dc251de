"""clone / get against a real `selenite serve` process and real git."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.support.cli import selenite
from tests.support.files import tree_files
from tests.support.git import git
from tests.support.registry import Registry
from tests.support.seed import seed_three_versions


@pytest.fixture
def seeded(registry: Registry, tmp_path: Path) -> dict[str, dict[str, bytes]]:
    return seed_three_versions(registry, tmp_path)


def cache_dir() -> Path:
    return Path(os.environ["SELENITE_CACHE"])


def objects_in_cache() -> list[Path]:
    return [p for p in (cache_dir() / "objects").glob("*/*/*/*")]


def test_clone_three_versions(registry: Registry, seeded: dict[str, dict[str, bytes]], tmp_path: Path) -> None:
    work = tmp_path / "work"
    before = registry.stats()
    selenite("clone", "test/blob@v3", work, "--url", registry.url, cwd=tmp_path)
    after = registry.stats()
    assert tree_files(work) == seeded["v3"]
    for path in seeded["v3"]:
        p = work / path
        assert p.is_symlink()
        text = os.readlink(p)
        assert not os.path.isabs(text) and ".git/selenite/objects/" in text
    assert git("status", "--porcelain", cwd=work) == ""
    log = git("log", "--format=%s%n%b", cwd=work)
    assert "test/blob@v3" in log and "Selenite-Version: test/blob/v3" in log
    assert git("tag", cwd=work).split() == ["v3"]  # its ancestors' commits are in the history, untagged
    assert (work / ".git" / "hooks" / "pre-commit").exists()  # the project's hook is installed
    # summary + manifest + one download per distinct content (a.txt's bytes come from v1, the ancestor),
    # and for the commit rule (docs/user/history.md): v2's and v1's summary and manifest (its
    # ancestors, kept in the cache)
    assert after["file_get"] - before["file_get"] == 2 + len(set(seeded["v3"].values())) + 4
    # a second clone of another version downloads only what the cache lacks
    before = registry.stats()
    selenite("clone", "test/blob@v2", tmp_path / "w2", "--url", registry.url, cwd=tmp_path)
    after = registry.stats()
    assert tree_files(tmp_path / "w2") == seeded["v2"]
    # big.bin: v2's manifest and a.txt, b/c.csv and new.txt are already cached
    assert after["file_get"] - before["file_get"] == 1
    new_bytes = len(seeded["v2"]["big.bin"])
    assert new_bytes <= after["file_get_bytes"] - before["file_get_bytes"] < new_bytes + 4096
    # the same version again: no file download, at most two metadata requests
    before = registry.stats()
    selenite("clone", "test/blob@v2", tmp_path / "w3", "--url", registry.url, cwd=tmp_path)
    after = registry.stats()
    assert after["file_get_bytes"] - before["file_get_bytes"] == 0
    assert after["requests"] - before["requests"] <= 2
    assert tree_files(tmp_path / "w3") == seeded["v2"]


def test_clone_latest_by_default_into_asset_name(
    registry: Registry, seeded: dict[str, dict[str, bytes]], tmp_path: Path
) -> None:
    selenite("clone", "test/blob", "--url", registry.url, cwd=tmp_path)
    assert tree_files(tmp_path / "blob") == seeded["v3"]
    assert git("config", "selenite.version", cwd=tmp_path / "blob").strip() == "v3"


def test_no_download_then_get_one_path(registry: Registry, seeded: dict[str, dict[str, bytes]], tmp_path: Path) -> None:
    work = tmp_path / "lazy"
    before = registry.stats()
    selenite("clone", "test/blob@v1", work, "--no-download", "--url", registry.url, cwd=tmp_path)
    # summary + manifest, no content; the commit rule reads the other versions' summaries (does any
    # finish before v1, to be its parent?), kept in the cache
    assert registry.stats()["file_get"] - before["file_get"] == 2 + 2
    assert all(not (work / p).exists() and (work / p).is_symlink() for p in seeded["v1"])
    st = selenite("status", "--json", cwd=work).stdout
    assert '"missing"' in st
    before = registry.stats()
    selenite("get", "b/c.csv", cwd=work)
    after = registry.stats()
    assert after["file_get"] - before["file_get"] == 1  # the manifest is cached: one content download
    assert after["file_get_bytes"] - before["file_get_bytes"] == len(seeded["v1"]["b/c.csv"])
    assert (work / "b/c.csv").read_bytes() == seeded["v1"]["b/c.csv"]
    assert not (work / "a.txt").exists()
    selenite("get", cwd=work / "b")  # PATHS are relative to the current folder; none = everything
    assert tree_files(work) == seeded["v1"]


def test_git_clone_of_working_repo_then_get(
    registry: Registry, seeded: dict[str, dict[str, bytes]], tmp_path: Path
) -> None:
    work = tmp_path / "work"
    selenite("clone", "test/blob@v3", work, "--url", registry.url, cwd=tmp_path)
    copy = tmp_path / "copy"
    git("clone", "-q", str(work), str(copy), cwd=tmp_path)
    assert not (copy / "a.txt").exists()  # no anchor yet: dangling
    other_cache = tmp_path / "other-cache"
    selenite("get", cwd=copy, env={"SELENITE_CACHE": str(other_cache)})  # origin from the commit trailers
    assert tree_files(copy) == seeded["v3"]
    assert git("config", "selenite.url", cwd=copy).strip() == registry.url
    assert git("status", "--porcelain", cwd=copy) == ""


def test_refusals_leave_nothing(registry: Registry, seeded: dict[str, dict[str, bytes]], tmp_path: Path) -> None:
    for source, words in [
        ("nope/blob", "no project 'nope'"),
        ("test/nope", "no asset 'nope'"),
        ("test/blob@v9", "no version 'v9'"),
    ]:
        r = selenite("clone", source, tmp_path / "d", "--url", registry.url, cwd=tmp_path, check=False)
        assert r.returncode == 1 and words in r.stderr and len(r.stderr.strip().splitlines()) == 1, r.stderr
        assert not (tmp_path / "d").exists()
    full = tmp_path / "full"
    full.mkdir()
    (full / "mine.txt").write_text("user data")
    r = selenite("clone", "test/blob@v1", full, "--url", registry.url, cwd=tmp_path, check=False)
    assert r.returncode == 1 and "not empty" in r.stderr
    assert os.listdir(full) == ["mine.txt"] and (full / "mine.txt").read_text() == "user data"


@pytest.mark.parametrize("bad_path", ["../escape.txt", "/etc/evil", "a/../../x", "a\\b.txt"])
def test_manifest_with_unsafe_path_is_refused(registry: Registry, seeded: dict[str, dict[str, bytes]],
                                              tmp_path: Path, bad_path: str) -> None:
    import json

    m = json.loads(registry.get_raw("test/blob/v1/..manifest"))  # planted behind the server's back
    m[bad_path] = m["a.txt"]
    registry.put_raw("test/blob/v1/..manifest", json.dumps(m).encode())
    r = selenite("clone", "test/blob@v1", tmp_path / "d", "--url", registry.url, cwd=tmp_path, check=False)
    assert r.returncode == 1 and len(r.stderr.strip().splitlines()) == 1, r.stderr
    assert bad_path in r.stderr or repr(bad_path) in r.stderr
    assert not (tmp_path / "d").exists() and not (tmp_path / "escape.txt").exists()
    assert objects_in_cache() == []


def test_wrong_bytes_are_refused(registry: Registry, seeded: dict[str, dict[str, bytes]], tmp_path: Path) -> None:
    registry.put_raw("test/blob/v1/b/c.csv", b"x,y\n9,9\n")  # same size, other md5
    r = selenite("clone", "test/blob@v1", tmp_path / "d", "--url", registry.url, cwd=tmp_path, check=False)
    assert r.returncode == 1 and len(r.stderr.strip().splitlines()) == 1, r.stderr
    assert "test/blob/v1/b/c.csv" in r.stderr
    assert not (tmp_path / "d").exists()
    import hashlib

    bad = hashlib.md5(b"x,y\n9,9\n").hexdigest()
    good = hashlib.md5(seeded["v1"]["b/c.csv"]).hexdigest()
    assert not any(bad in p.name or good in p.name for p in objects_in_cache())
    assert os.listdir(cache_dir() / "tmp") == []
