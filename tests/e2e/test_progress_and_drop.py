"""Progress bars count files as files and bytes in binary units; `drop` reports only the space it
really frees (new-user findings 24 and 25)."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.cli import selenite
from tests.support.registry import Registry
from tests.support.seed import create_project, upload_version

pytestmark = pytest.mark.backends("folder")  # the subject is the client, not the storage

MiB = 1 << 20


def _on_a_terminal(args: list[str], cwd: Path) -> str:
    """What a user sees running the CLI in a terminal (a real pty through script(1)), colours off."""
    cmd = shlex.join([sys.executable, "-m", "selenite", *args])
    env = {**os.environ, "TERM": "xterm", "COLUMNS": "160", "NO_COLOR": "1"}
    out = subprocess.run(["script", "-qec", cmd, "/dev/null"], cwd=cwd, env=env, capture_output=True,
                         text=True, timeout=120)
    assert out.returncode == 0, out.stdout + out.stderr
    return re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", out.stdout).replace("\r", "\n")


def test_progress_bars_label_files_and_bytes(registry: Registry, tmp_path: Path) -> None:
    create_project(registry, "p")
    upload_version(registry, tmp_path, "v1", {f"f{i}.bin": os.urandom(3 * MiB + i) for i in range(4)},
                   project="p", asset="a")
    screen = _on_a_terminal(["clone", "--url", registry.url, "p/a@v1", "t"], tmp_path)
    files_rows = [line for line in screen.splitlines() if "get files" in line]
    bytes_rows = [line for line in screen.splitlines() if "get bytes" in line]
    assert files_rows and bytes_rows, screen
    assert "4/4 files" in files_rows[-1] and "bytes" not in files_rows[-1] and "/s" not in files_rows[-1]
    assert re.search(r"12\.0 MiB/12\.0 MiB", bytes_rows[-1]), bytes_rows[-1]
    assert not re.search(r"\d{6,}", bytes_rows[-1]) and " MB" not in bytes_rows[-1]


def _freed(stderr: str) -> str:
    m = re.search(r"dropped (\d+) object\(s\), (\S+ \S+) freed", stderr)
    assert m, stderr
    return f"{m.group(1)} {m.group(2)}"


def test_drop_counts_each_inode_once_and_only_when_its_last_link_goes(registry: Registry, tmp_path: Path) -> None:
    same = os.urandom(MiB)
    create_project(registry, "p")
    upload_version(registry, tmp_path, "v1", {"a.bin": same, "b.dat": same, "c.bin": os.urandom(2 * MiB)},
                   project="p", asset="a")
    # Symlink tree: a.bin and b.dat are two keys (two extensions) of one content, one inode.
    selenite("clone", "--url", registry.url, "p/a@v1", tmp_path / "s")
    assert _freed(selenite("drop", cwd=tmp_path / "s").stderr) == "3 3.0 MiB"  # not 4.0 MiB
    # Hardlink tree: every object is also the tree's file, so dropping frees nothing.
    own_cache = {"SELENITE_CACHE": str(tmp_path / "cache2")}  # the symlink tree above is not in it
    selenite("clone", "--url", registry.url, "--link-mode", "hardlink", "p/a@v1", tmp_path / "h", env=own_cache)
    r = selenite("drop", cwd=tmp_path / "h", env=own_cache)
    assert _freed(r.stderr) == "3 0 B" and "still have other hard links" in r.stderr, r.stderr
