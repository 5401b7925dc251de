"""The `selenite` clean/smudge filter with real git, in a plain repository (no registry needed):
what `required = true` means, and the pointer's round trips."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from selenite import gitfilter
from selenite.cache import Cache
from selenite.keys import Key
from selenite.tree.pointers import parse_pointer, pointer, read_pointer_file


def git(
    cwd: Path, *args: str, env: dict[str, str] | None = None, check: bool = True
) -> subprocess.CompletedProcess[bytes]:
    proc = subprocess.run(["git", *args], cwd=cwd, capture_output=True, env={**os.environ, **(env or {})}, timeout=120)
    if check:
        assert proc.returncode == 0, f"git {args}: {proc.stderr.decode()}"
    return proc


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    git(tmp_path, "init", "-q", str(root))
    gitfilter.configure(root)
    return root


def loose_objects(root: Path) -> int:
    return sum(len(files) for _, _, files in os.walk(root / ".git" / "objects"))


def test_clean_stores_a_pointer_and_smudge_gives_the_bytes_back(repo: Path) -> None:
    data = os.urandom(300_000)
    (repo / "data.bin").write_bytes(data)
    git(repo, "add", "data.bin")
    stored = git(repo, "show", ":data.bin").stdout
    key = parse_pointer(stored)
    assert key is not None and key.size == len(data)
    assert Cache(Path(os.environ["SELENITE_CACHE"])).object_path(key).read_bytes() == data
    (repo / "data.bin").unlink()
    git(repo, "checkout", "--", "data.bin")
    assert (repo / "data.bin").read_bytes() == data


def test_a_pointer_passes_clean_unchanged_and_smudge_without_content_leaves_it(repo: Path) -> None:
    missing = Key("0123456789abcdef0123456789abcdef", 5, ".txt")
    (repo / "p.txt").write_bytes(pointer(missing))
    git(repo, "add", "p.txt")
    assert git(repo, "show", ":p.txt").stdout == pointer(missing)
    assert not Cache(Path(os.environ["SELENITE_CACHE"])).has(missing)
    (repo / "p.txt").unlink()
    git(repo, "checkout", "--", "p.txt")  # smudge never fails: the pointer stays, `selenite get` fills it
    assert read_pointer_file(repo / "p.txt") == missing


def test_files_git_reads_are_stored_as_they_are(repo: Path) -> None:
    for name in (".gitignore", "sub/.gitattributes", ".mailmap"):
        (repo / name).parent.mkdir(exist_ok=True)
        (repo / name).write_text("# kept\n")
    git(repo, "add", ".")
    for name in (".gitignore", "sub/.gitattributes", ".mailmap"):
        assert git(repo, "show", f":{name}").stdout == b"# kept\n"


def test_required_filter_that_cannot_store_stops_git_rather_than_store_the_bytes(repo: Path, tmp_path: Path) -> None:
    (tmp_path / "not-a-folder").write_text("")
    (repo / "big.bin").write_bytes(os.urandom(200_000))
    before = loose_objects(repo)
    proc = git(repo, "add", "big.bin", env={"SELENITE_CACHE": str(tmp_path / "not-a-folder" / "cache")}, check=False)
    assert proc.returncode != 0
    assert b"selenite" in proc.stderr and b"cache" in proc.stderr
    assert loose_objects(repo) == before  # nothing went into .git
    assert git(repo, "ls-files").stdout == b""


def test_configure_keeps_the_users_attribute_lines_and_is_idempotent(repo: Path) -> None:
    attributes = repo / ".git" / "info" / "attributes"
    attributes.write_text(attributes.read_text() + "*.txt diff\n")
    gitfilter.configure(repo)
    gitfilter.ensure_configured(repo)
    text = attributes.read_text()
    assert text.count("* filter=selenite") == 1 and "*.txt diff" in text
    assert git(repo, "config", "filter.selenite.required").stdout.strip() == b"true"


def test_memory_stays_flat_in_the_file_size(repo: Path) -> None:
    """Git streams the file to the filter and the filter streams it to the cache: `git add` of a
    96 MiB file peaks far below 96 MiB in git and in the filter (each measured as a child)."""
    size = 96 << 20
    with open(repo / "big.bin", "wb") as f:
        for _ in range(size >> 20):
            f.write(os.urandom(1 << 20))
    probe = ("import resource, subprocess, sys; subprocess.run(['git', 'add', 'big.bin'], check=True); "
             "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)")
    peak_kib = int(subprocess.run([sys.executable, "-c", probe], cwd=repo, capture_output=True, text=True,
                                  check=True).stdout)
    assert peak_kib * 1024 < size // 2, f"peak {peak_kib} KiB for a {size >> 20} MiB file"
    assert parse_pointer(git(repo, "show", ":big.bin").stdout) is not None
