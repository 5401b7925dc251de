"""A cache object's signature holds its ctime: an in-place edit that sets mtime back is still seen,
and selenite's own hard links do not cost a re-hash (statsig, Cache.keeping_signatures).

Real git, a real `selenite serve`; the edits are made as a user would (chmod, write, os.utime).
"""

from __future__ import annotations

import os
import sqlite3
import time
from pathlib import Path

import pytest

from tests.support.cli import selenite
from tests.support.registry import Registry
from tests.support.seed import seed_three_versions

pytestmark = pytest.mark.backends("folder")  # the subject is the client, not the storage


@pytest.fixture
def seeded(registry: Registry, tmp_path: Path) -> dict[str, dict[str, bytes]]:
    return seed_three_versions(registry, tmp_path)


def _cache() -> Path:
    return Path(os.environ["SELENITE_CACHE"])


def _recorded() -> dict[str, tuple[int, int, int, int]]:
    """{key: (size, mtime_ns, ctime_ns, inode)} as the cache's state.sqlite holds them."""
    with sqlite3.connect(_cache() / "state.sqlite") as db:
        rows = db.execute("SELECT key, size, mtime_ns, ctime_ns, inode FROM object_sigs").fetchall()
    return {k: (s, m, c, i) for k, s, m, c, i in rows}


def _object_stats() -> dict[str, tuple[int, int, int, int]]:
    out = {}
    for obj in (_cache() / "objects").glob("*/*/*/*"):
        st = os.stat(obj)
        out[obj.name] = (st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino)
    return out


@pytest.mark.parametrize("mode", ["symlink", "hardlink"])
def test_a_same_size_edit_that_restores_mtime_is_caught(registry: Registry, seeded: dict[str, dict[str, bytes]],
                                                        tmp_path: Path, mode: str) -> None:
    work = tmp_path / "c"
    selenite("clone", "test/blob@v3", work, "--url", registry.url, "--link-mode", mode, cwd=tmp_path)
    assert selenite("status", cwd=work).stdout == ""  # signed, trusted
    time.sleep(1.1)
    target = work / "moved/c.csv"
    os.chmod(target.resolve(), 0o644)
    st = os.stat(target)
    with open(target, "r+b") as f:  # through the link: the shared object's bytes
        f.write(b"a,b\n7,7\n")  # the same size as "x,y\n1,2\n"
    os.utime(target, ns=(st.st_atime_ns, st.st_mtime_ns))  # mtime as it was: only ctime moved
    out = selenite("status", cwd=work).stdout
    assert "object corrupted" in out and "moved/c.csv" in out, out
    (work / "nn.csv").write_bytes(b"nn\n")
    r = selenite("push", "--version", "v4", "--token", registry.admin_token, cwd=work, check=False)
    assert r.returncode == 1, r.stderr
    assert "moved/c.csv" in r.stderr and "selenite fsck --repair" in r.stderr
    assert "v4" not in selenite("ls", "test/blob", "--url", registry.url).stdout


def test_selenite_s_own_hard_links_keep_objects_signed(registry: Registry, seeded: dict[str, dict[str, bytes]],
                                                       tmp_path: Path) -> None:
    """Placing hard links (two clones), deduplicating same-content objects (dup1.txt and dup2.dat
    share an inode) and unlocking a hard link all move the objects' ctime: each time selenite signs
    them again, so every recorded signature is the object's stat as it is now, which is what lets
    `status` trust them without a hash."""
    for name in ("h1", "h2"):
        selenite("clone", "test/blob@v1", tmp_path / name, "--url", registry.url, "--link-mode", "hardlink",
                 cwd=tmp_path)
    now = _object_stats()
    assert len(now) == 5
    assert now["MD5E-s5--" + _md5(b"same\n") + ".txt"][3] == now["MD5E-s5--" + _md5(b"same\n") + ".dat"][3]
    assert _recorded() == now  # nothing left for status to re-hash
    assert selenite("status", cwd=tmp_path / "h1").stdout == ""
    assert _recorded() == _object_stats()

    selenite("unlock", "a.txt", cwd=tmp_path / "h1")  # removes one of the object's hard links
    assert _recorded() == _object_stats()
    assert os.stat(tmp_path / "h1" / "a.txt").st_ino != _object_stats()["MD5E-s6--" + _md5(b"alpha\n") + ".txt"][3]


def _md5(data: bytes) -> str:
    import hashlib

    return hashlib.md5(data).hexdigest()
