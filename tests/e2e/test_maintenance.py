"""status / unlock / drop / fsck --repair / gc, concurrent clones and a killed download."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.support.cli import selenite
from tests.support.files import tree_files
from tests.support.git import git
from tests.support.registry import Registry
from tests.support.seed import create_project, seed_three_versions, upload_version


@pytest.fixture
def seeded(registry: Registry, tmp_path: Path) -> dict[str, dict[str, bytes]]:
    return seed_three_versions(registry, tmp_path)


def objects() -> list[Path]:
    return list((Path(os.environ["SELENITE_CACHE"]) / "objects").glob("*/*/*/*"))


def test_edit_through_link_then_fsck_repair(
    registry: Registry, seeded: dict[str, dict[str, bytes]], tmp_path: Path
) -> None:
    work = tmp_path / "w"
    selenite("clone", "test/blob@v1", work, "--url", registry.url, cwd=tmp_path)
    obj = (work / "b/c.csv").resolve()
    os.chmod(obj, 0o644)
    (work / "b/c.csv").write_bytes(b"edited through the link\n")
    assert git("status", "--porcelain", cwd=work) == ""  # git cannot see it
    st = json.loads(selenite("status", "--json", cwd=work).stdout)
    entry = next(p for p in st["paths"] if p["path"] == "b/c.csv")
    assert {"path": "b/c.csv", "status": "corrupted"}.items() <= entry.items()
    r = selenite("fsck", cwd=work, check=False)
    assert r.returncode == 1 and "b/c.csv" in r.stdout
    selenite("fsck", "--repair", cwd=work)
    assert not (work / "b/c.csv").is_symlink()
    assert (work / "b/c.csv").read_bytes() == b"edited through the link\n"  # the user's bytes kept
    assert obj.read_bytes() == seeded["v1"]["b/c.csv"]  # the object restored
    assert selenite("fsck", cwd=work).returncode == 0
    st = json.loads(selenite("status", "--json", cwd=work).stdout)
    assert [p["status"] for p in st["paths"]] == ["modified"]


def test_unlock_status_drop_get(registry: Registry, seeded: dict[str, dict[str, bytes]], tmp_path: Path) -> None:
    work = tmp_path / "w"
    selenite("clone", "test/blob@v1", work, "--url", registry.url, cwd=tmp_path)
    obj = (work / "a.txt").resolve()
    selenite("unlock", "a.txt", cwd=work)
    assert not (work / "a.txt").is_symlink() and os.access(work / "a.txt", os.W_OK)
    (work / "a.txt").write_bytes(b"changed\n")
    assert obj.read_bytes() == seeded["v1"]["a.txt"]  # the cache is untouched
    (work / "extra.txt").write_text("new")
    os.unlink(work / "dup1.txt")
    st = {p["path"]: p["status"] for p in json.loads(selenite("status", "--json", cwd=work).stdout)["paths"]}
    assert st == {"a.txt": "modified", "extra.txt": "new", "dup1.txt": "deleted"}
    text = selenite("status", cwd=work).stdout
    assert "modified" in text and "a.txt" in text
    # drop frees the content; get brings it back
    selenite("drop", "b", "big.bin", cwd=work)
    assert not (work / "b/c.csv").exists() and not (work / "big.bin").exists()
    assert (work / "dup2.dat").exists()
    selenite("get", cwd=work)
    assert (work / "b/c.csv").read_bytes() == seeded["v1"]["b/c.csv"]


def test_drop_keeps_what_another_tree_uses(
    registry: Registry, seeded: dict[str, dict[str, bytes]], tmp_path: Path
) -> None:
    selenite("clone", "test/blob@v1", tmp_path / "w1", "--url", registry.url, cwd=tmp_path)
    selenite("clone", "test/blob@v2", tmp_path / "w2", "--url", registry.url, cwd=tmp_path)
    selenite("drop", cwd=tmp_path / "w1")
    assert (tmp_path / "w2" / "a.txt").read_bytes() == seeded["v2"]["a.txt"]  # shared with w2: kept
    assert not (tmp_path / "w1" / "big.bin").exists()  # v1's big.bin is only in w1: dropped


def test_gc_keeps_registered_trees(registry: Registry, seeded: dict[str, dict[str, bytes]], tmp_path: Path) -> None:
    selenite("clone", "test/blob@v1", tmp_path / "w1", "--url", registry.url, cwd=tmp_path)
    selenite("clone", "test/blob@v3", tmp_path / "w3", "--url", registry.url, cwd=tmp_path)
    n_before = len(objects())
    import shutil

    shutil.rmtree(tmp_path / "w1")  # forgotten by gc; only w3's objects stay
    r = selenite("gc", "--max-size", "0", "--dry-run", cwd=tmp_path)
    assert "would remove" in r.stdout and len(objects()) == n_before
    selenite("gc", "--max-size", "0", cwd=tmp_path)
    assert len(objects()) == len(set(seeded["v3"].values()))
    assert tree_files(tmp_path / "w3") == seeded["v3"]
    assert selenite("fsck", cwd=tmp_path / "w3").returncode == 0


def test_two_concurrent_clones(registry: Registry, seeded: dict[str, dict[str, bytes]], tmp_path: Path) -> None:
    env = {**os.environ}
    procs = [
        subprocess.Popen([sys.executable, "-m", "selenite", "clone", "test/blob@v3", str(tmp_path / f"c{i}"),
                          "--url", registry.url, "-j", "4"], cwd=tmp_path, env=env,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        for i in range(2)
    ]
    for p in procs:
        _, err = p.communicate(timeout=120)
        assert p.returncode == 0, err
    for i in range(2):
        assert tree_files(tmp_path / f"c{i}") == seeded["v3"]
        assert selenite("fsck", cwd=tmp_path / f"c{i}").returncode == 0


def test_killed_download_leaves_no_partial_object(registry: Registry, tmp_path: Path) -> None:
    create_project(registry, "big")
    data = os.urandom(48 * 1024 * 1024)
    upload_version(registry, tmp_path, "v1", {"huge.bin": data}, project="big", asset="a")
    cache = Path(os.environ["SELENITE_CACHE"])
    work = tmp_path / "w"
    p = subprocess.Popen([sys.executable, "-m", "selenite", "clone", "big/a@v1", str(work), "--url", registry.url],
                         cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    killed = False
    while time.monotonic() < deadline and p.poll() is None:
        parts = list((cache / "tmp").glob("partial-*"))  # 8 MiB or more: a resumable partial (cache/partial.py)
        if parts and any(0 < q.stat().st_size < len(data) for q in parts if q.exists()):
            p.send_signal(signal.SIGKILL)
            killed = True
            break
        time.sleep(0.0005)
    p.wait()
    assert killed, "the download finished before it could be killed"
    assert objects() == []  # a partial download never becomes an object
    selenite("get", cwd=work)  # the interrupted clone is a lazy clone: get finishes it
    assert (work / "huge.bin").read_bytes() == data
    selenite("clone", "big/a@v1", tmp_path / "again", "--url", registry.url, cwd=tmp_path)
    assert (tmp_path / "again" / "huge.bin").read_bytes() == data


def test_ls(registry: Registry, seeded: dict[str, dict[str, bytes]], tmp_path: Path) -> None:
    assert selenite("ls", "--url", registry.url).stdout.split() == ["test"]
    assert selenite("ls", "test", "--url", registry.url).stdout.split() == ["blob"]
    rows = json.loads(selenite("ls", "test/blob", "--json", "--url", registry.url).stdout)
    assert [r["version"] for r in rows] == ["v1", "v2", "v3"] and [r["latest"] for r in rows] == [False, False, True]
    files = json.loads(selenite("ls", "test/blob@v3", "--json", "--url", registry.url).stdout)
    assert {f["path"]: f["size"] for f in files} == {p: len(d) for p, d in seeded["v3"].items()}
    r = selenite("ls", "test/nope", "--url", registry.url, check=False)
    assert r.returncode == 1 and "no asset 'nope'" in r.stderr
