"""`selenite ls`: projects, assets, versions (latest and probation marked) and a version's files; a
table on a terminal, tab-separated lines in a pipe, ``--json`` for scripts."""

from __future__ import annotations

import json
import os
import pty
import subprocess
from pathlib import Path

import pytest

from tests.support.cli import selenite
from tests.support.registry import Registry
from tests.support.seed import ASSET, PROJECT, create_project, seed_three_versions, upload_version
from tests.support.serve import SELENITE

pytestmark = pytest.mark.backends("folder")  # the subject is the listing, not the storage


@pytest.fixture
def seeded(registry: Registry, tmp_path: Path) -> Registry:
    seed_three_versions(registry, tmp_path)
    create_project(registry, "other")
    upload_version(registry, tmp_path, "p1", {"x.txt": b"x\n"}, project="other", asset="a")
    return registry


def ls(registry: Registry, *args: str) -> list[list[str]]:
    out = selenite("ls", "--url", registry.url, *args).stdout
    return [line.split("\t") for line in out.splitlines()]


def test_projects_assets_versions_and_files_as_lines(seeded: Registry) -> None:
    assert ls(seeded) == [["other"], [PROJECT]]
    assert ls(seeded, PROJECT) == [[ASSET]]
    versions = ls(seeded, f"{PROJECT}/{ASSET}")
    assert [v[0] for v in versions] == ["v1", "v2", "v3"]  # oldest first
    assert [v[1] for v in versions] == ["", "", "yes"] and all(v[2] == "" for v in versions)
    files = {row[0]: row for row in ls(seeded, f"{PROJECT}/{ASSET}@v2")}
    assert sorted(files) == ["a.txt", "b/c.csv", "big.bin", "new.txt"]
    assert files["a.txt"][1] == "6" and files["a.txt"][3] == f"{PROJECT}/{ASSET}/v1/a.txt"
    assert files["new.txt"][3] == ""
    assert ls(seeded, f"{PROJECT}/{ASSET}/v3") == ls(seeded, f"{PROJECT}/{ASSET}@v3")


def test_json_for_scripts(seeded: Registry) -> None:
    rows = json.loads(selenite("ls", "--url", seeded.url, "--json", f"{PROJECT}/{ASSET}").stdout)
    assert [(r["version"], r["latest"], r["probation"]) for r in rows] == [
        ("v1", False, False), ("v2", False, False), ("v3", True, False)]
    assert all(r["user"] == "admin" and r["finished"] for r in rows)


def test_the_url_comes_from_the_environment_or_the_tree(seeded: Registry, tmp_path: Path) -> None:
    out = selenite("ls", env={"SELENITE_URL": seeded.url}).stdout
    assert out.splitlines() == ["other", PROJECT]
    selenite("clone", "--url", seeded.url, f"{PROJECT}/{ASSET}@v1", tmp_path / "t")
    assert selenite("ls", PROJECT, cwd=tmp_path / "t").stdout.splitlines() == [ASSET]


@pytest.mark.parametrize("target, reason", [
    ("a/b/c/d", "expected PROJECT, PROJECT/ASSET or PROJECT/ASSET@VERSION"),
    ("a@v1", "expected PROJECT, PROJECT/ASSET or PROJECT/ASSET@VERSION"),
    ("a/b@", "expected PROJECT, PROJECT/ASSET or PROJECT/ASSET@VERSION"),
    ("nope", "has no project 'nope'"),
    ("nope/x", "has no project 'nope'"),
    (f"{PROJECT}/nope", f"project '{PROJECT}' has no asset 'nope'"),
    (f"{PROJECT}/{ASSET}@v9", f"{PROJECT}/{ASSET} has no version 'v9'"),
])
def test_what_does_not_exist_is_named_in_one_line(seeded: Registry, target: str, reason: str) -> None:
    r = selenite("ls", "--url", seeded.url, target, check=False)
    assert r.returncode == 1 and r.stderr.count("\n") == 1 and reason in r.stderr, r.stderr


def test_a_table_on_a_terminal(seeded: Registry) -> None:
    def on_terminal(*args: str) -> str:
        leader, follower = pty.openpty()
        try:
            proc = subprocess.run([*SELENITE, "ls", "--url", seeded.url, *args], stdout=follower,
                                  stderr=subprocess.PIPE, text=True, timeout=120, check=False,
                                  env={**os.environ, "COLUMNS": "120"})
            assert proc.returncode == 0, proc.stderr
            os.close(follower)
            follower = -1
            chunks = []
            while True:
                try:
                    data = os.read(leader, 65536)
                except OSError:  # EIO: the terminal's other end is closed and drained
                    break
                if not data:
                    break
                chunks.append(data)
            return b"".join(chunks).decode()
        finally:
            os.close(leader)
            if follower >= 0:
                os.close(follower)

    versions = on_terminal(f"{PROJECT}/{ASSET}")
    assert "version" in versions and "latest" in versions and "v3" in versions
    files = on_terminal(f"{PROJECT}/{ASSET}@v1")
    assert "64.0 KiB" in files and "dup2.dat" in files
