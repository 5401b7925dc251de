"""Clones without symlinks (issue 8): hardlink and copy modes, pushed as links, with a real
`selenite serve`, real git and the real gypsum_client.

A ``sitecustomize`` written per test (on ``PYTHONPATH`` of the selenite subprocesses only) does two
test-only things, each switched on by its own environment variable: it makes ``os.symlink`` refuse
(EPERM) any link under one folder, as Windows without developer mode or a FAT volume would; and it
logs, through a Python audit hook, every file opened under one folder, so a test can show that an
unchanged file was recognised without being read.
"""

from __future__ import annotations

import os
import stat
import subprocess
from pathlib import Path

import gypsum_client as gc
import pytest

from tests.e2e.test_push import git, seed
from tests.e2e.test_push import tree_bytes as _all_bytes
from tests.support.cli import selenite
from tests.support.registry import Registry

MODES = ["symlink", "hardlink", "copy"]

SITECUSTOMIZE = r'''
import os, sys

_no_symlink = os.environ.get("LINKMODE_TEST_NO_SYMLINK_UNDER")
if _no_symlink:
    _real_symlink = os.symlink

    def _symlink(src, dst, *args, **kwargs):
        if os.path.abspath(os.fspath(dst)).startswith(_no_symlink + os.sep):
            raise PermissionError(1, "Operation not permitted", os.fspath(dst))
        return _real_symlink(src, dst, *args, **kwargs)

    os.symlink = _symlink

_log, _watch = os.environ.get("LINKMODE_TEST_OPEN_LOG"), os.environ.get("LINKMODE_TEST_WATCH")
if _log and _watch:
    _seen = []

    def _audit(event, args):
        if event == "open" and args and isinstance(args[0], (str, bytes, os.PathLike)):
            p = os.path.abspath(os.fsdecode(args[0]))
            if p.startswith(_watch + os.sep) and os.sep + ".git" + os.sep not in p:
                _seen.append(p)

    sys.addaudithook(_audit)
    import atexit

    def _dump():
        with open(_log, "a") as f:
            f.write("".join(p + "\n" for p in _seen))

    atexit.register(_dump)
'''


def tree_bytes(root: Path) -> dict[str, bytes]:
    """The tree's data: every file but .git and the hardlink/copy record."""
    return {p: b for p, b in _all_bytes(root).items() if not p.startswith(".selenite/")}


def site_env(tmp_path: Path, **env: str) -> dict[str, str]:
    site = tmp_path / "site"
    site.mkdir(exist_ok=True)
    (site / "sitecustomize.py").write_text(SITECUSTOMIZE)
    return {"PYTHONPATH": str(site), **env}


def opened_data(log: Path, work: Path) -> set[str]:
    """Data files of ``work`` a watched subprocess opened (the record is read, by design)."""
    if not log.exists():
        return set()
    rel = {Path(p).relative_to(work).as_posix() for p in log.read_text().split()}
    return {p for p in rel if p != ".selenite" and not p.startswith(".selenite/")}


def object_of(path: Path) -> Path:
    """The cache object with the same inode as ``path`` (a hard link), found in the test's cache."""
    st = path.stat()
    for p in Path(os.environ["SELENITE_CACHE"], "objects").rglob("MD5E-*"):
        if p.is_file() and p.stat().st_ino == st.st_ino:
            return p
    raise AssertionError(f"{path} shares no inode with a cache object")


def assert_form(work: Path, mode: str, paths: list[str]) -> None:
    """Each file is what the mode promises: a link, a read-only hard link to its object, or a copy."""
    for p in paths:
        full = work / p
        if mode == "symlink":
            assert full.is_symlink(), p
            continue
        st = os.lstat(full)
        assert stat.S_ISREG(st.st_mode), p
        if mode == "hardlink":
            assert st.st_nlink >= 2 and not st.st_mode & 0o222, p
            assert object_of(full).read_bytes() == full.read_bytes()
        else:
            assert st.st_nlink == 1 and st.st_mode & 0o200, p


def write_as_editor(path: Path, data: bytes) -> None:
    """What most editors do: write a new file and rename it over the old one (a hard link breaks)."""
    tmp = path.with_name(path.name + ".swp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


FILES = {f"part{i // 4}/file{i:02d}.txt": f"line {i}\n".encode() * (50 + i) for i in range(12)}
FILES["top.bin"] = os.urandom(20_000)


# Every mode on the folder backend; on S3 (where uploads bypass the server) one mode without
# symlinks is enough: the modes differ only on the client (symlink on S3: tests/e2e/test_push.py).
@pytest.mark.parametrize(("registry", "mode"), [*(("folder", m) for m in MODES), ("s3", "copy")],
                         indirect=["registry"])
def test_each_mode_pushes_only_changed_bytes(registry: Registry, tmp_path: Path, mode: str) -> None:
    seed(registry, tmp_path, FILES)
    work = tmp_path / "work"
    res = selenite("clone", "proj/data", work, "--url", registry.url, "--link-mode", mode)
    assert tree_bytes(work) == FILES
    assert_form(work, mode, list(FILES))
    assert git("config", "selenite.linkmode", cwd=work).strip() == mode
    if mode != "symlink":
        assert ("hard links" if mode == "hardlink" else "copies") in res.stderr
        # Git holds the record, never the data's bytes; the tree is clean for Git and selenite.
        assert git("ls-files", cwd=work).split() == [".selenite/tree.json"]
        assert git("status", "--porcelain", cwd=work) == ""
        sizes = [int(line.split()[3]) for line in git("ls-tree", "-r", "-l", "HEAD", cwd=work).splitlines()]
        assert sum(sizes) < 4000
    assert selenite("status", cwd=work).stdout == ""

    # Unchanged files are recognised without reading them (inode + signature, or the stat cache).
    log = tmp_path / "opened.log"
    watch = site_env(tmp_path, LINKMODE_TEST_OPEN_LOG=str(log), LINKMODE_TEST_WATCH=str(work))
    assert selenite("status", cwd=work, env=watch).stdout == ""
    assert opened_data(log, work) == set()

    edited, added = b"an edited file\n" * 30, b"a brand new file\n" * 11
    if mode == "symlink":
        selenite("unlock", "part0/file01.txt", cwd=work)
    if mode == "copy":
        (work / "part0/file01.txt").write_bytes(edited)
    else:
        write_as_editor(work / "part0/file01.txt", edited)
    (work / "part2/added.txt").write_bytes(added)
    expected = {**FILES, "part0/file01.txt": edited, "part2/added.txt": added}
    st = selenite("status", "--json", cwd=work).stdout
    assert '"path": "part0/file01.txt",\n      "status": "modified"' in st
    assert '"path": "part2/added.txt",\n      "status": "new"' in st
    assert st.count('"status"') == 2

    before = registry.uploaded_bytes()
    log.unlink(missing_ok=True)
    out = selenite("push", "--token", registry.admin_token, cwd=work, env=watch).stdout
    assert registry.uploaded_bytes() - before == len(edited) + len(added)
    assert "pushed proj/data/v2" in out and "2 uploaded" in out
    # Push read the two new files (hash, upload, ingest) and nothing else of the tree.
    assert opened_data(log, work) <= {"part0/file01.txt", "part2/added.txt"}

    manifest = gc.fetch_manifest("proj", "data", "v2", url=registry.url, cache_dir=None)
    assert set(manifest) == set(expected)
    assert {p for p, e in manifest.items() if "link" in e} == set(FILES) - {"part0/file01.txt"}

    # Clean afterwards, the pushed files in the mode's form again, the record committed and tagged.
    assert selenite("status", cwd=work).stdout == ""
    assert git("status", "--porcelain", cwd=work) == ""
    assert_form(work, mode, list(expected))
    assert "v2" in git("tag", cwd=work).split()
    if mode != "symlink":
        assert '"part2/added.txt"' in git("show", "HEAD:.selenite/tree.json", cwd=work)

    fresh = tmp_path / "fresh"
    selenite("clone", "proj/data@v2", fresh, "--url", registry.url, "--link-mode", mode)
    assert tree_bytes(fresh) == tree_bytes(work) == expected


@pytest.mark.backends("folder")
def test_hardlink_write_in_place_is_caught_by_the_hook_and_repaired(registry: Registry, tmp_path: Path) -> None:
    files = {"a.txt": b"alpha\n" * 10, "b/c.txt": b"charlie\n" * 10}
    seed(registry, tmp_path, files)
    work = tmp_path / "work"
    selenite("clone", "proj/data", work, "--url", registry.url, "--link-mode", "hardlink")
    victim = work / "b/c.txt"
    obj = object_of(victim)
    os.chmod(victim, 0o644)  # a tool that forces its way; the mode is the object's too (one inode)
    with open(victim, "r+b") as f:  # written in place: through the hard link, into the shared cache
        f.write(b"EDITED!")
    edited = victim.read_bytes()
    assert obj.read_bytes() == edited != files["b/c.txt"]
    assert git("status", "--porcelain", cwd=work) == ""  # Git sees nothing, as with a symlink

    status = selenite("status", cwd=work).stdout
    assert "object corrupted  b/c.txt" in status and "a.txt" not in status
    commit = subprocess.run(["git", "commit", "--allow-empty", "-m", "notes"], cwd=work, capture_output=True, text=True)
    assert commit.returncode != 0, commit.stdout + commit.stderr
    assert "b/c.txt" in commit.stderr and "selenite fsck --repair" in commit.stderr
    assert selenite("fsck", cwd=work, check=False).returncode == 1

    selenite("fsck", "--repair", cwd=work)
    # Nothing lost: the user's bytes are a real file at that path; the object is right again.
    assert victim.read_bytes() == edited and os.stat(victim).st_nlink == 1
    assert obj.read_bytes() == files["b/c.txt"]
    assert "modified  b/c.txt" in selenite("status", cwd=work).stdout
    subprocess.run(["git", "commit", "--allow-empty", "-m", "notes"], cwd=work, check=True, capture_output=True)
    before = registry.uploaded_bytes()
    selenite("push", "--token", registry.admin_token, cwd=work)
    assert registry.uploaded_bytes() - before == len(edited)
    assert object_of(victim).read_bytes() == edited  # a hard link again, to the pushed content


@pytest.mark.backends("folder")
def test_auto_falls_back_where_symlinks_are_refused(registry: Registry, tmp_path: Path) -> None:
    files = {"a.txt": b"alpha\n" * 10, "d/e.txt": b"echo\n" * 10}
    seed(registry, tmp_path, files)
    work = tmp_path / "work"
    env = site_env(tmp_path, LINKMODE_TEST_NO_SYMLINK_UNDER=str(work))

    refused = selenite(
        "clone", "proj/data", work, "--url", registry.url, "--link-mode", "symlink", env=env, check=False
    )
    assert refused.returncode == 1 and "Traceback" not in refused.stderr
    assert "symlinks refused here: Operation not permitted" in refused.stderr and "--link-mode" in refused.stderr
    assert not work.exists()  # the clone's own folder is removed

    res = selenite("clone", "proj/data", work, "--url", registry.url, "--link-mode", "auto", env=env)
    assert "link mode auto: using hardlink (symlinks refused here: Operation not permitted)" in res.stderr
    assert tree_bytes(work) == files
    assert_form(work, "hardlink", list(files))
    assert not (work / ".git/selenite/objects").is_symlink()  # the anchor is a file holding the cache path
    assert git("config", "selenite.linkmode", cwd=work).strip() == "hardlink"
    assert selenite("status", cwd=work, env=env).stdout == ""

    write_as_editor(work / "a.txt", b"new alpha\n")
    before = registry.uploaded_bytes()
    selenite("push", "--token", registry.admin_token, cwd=work, env=env)
    assert registry.uploaded_bytes() - before == len(b"new alpha\n")
    assert selenite("status", cwd=work, env=env).stdout == ""
    assert_form(work, "hardlink", list(files))


@pytest.mark.backends("folder")
def test_plain_git_clone_then_get_restores_the_files(registry: Registry, tmp_path: Path) -> None:
    files = {"a.txt": b"alpha\n" * 10, "d/e.txt": b"echo\n" * 10, "d/f.bin": os.urandom(3000)}
    seed(registry, tmp_path, files)
    work = tmp_path / "work"
    selenite("clone", "proj/data", work, "--url", registry.url, "--link-mode", "copy")
    plain = tmp_path / "plain"
    subprocess.run(["git", "clone", "-q", str(work), str(plain)], check=True)
    assert tree_bytes(plain) == {}  # Git carried the record only

    # Never fetched is not deleted: a push now would keep every file.
    st = selenite("status", cwd=plain).stdout
    assert st.count("content missing") == 3 and "deleted" not in st
    selenite("get", cwd=plain)
    assert tree_bytes(plain) == files
    assert_form(plain, "copy", list(files))  # the mode the record names
    assert selenite("status", cwd=plain).stdout == "" and git("status", "--porcelain", cwd=plain) == ""

    # Someone pushes v2 from the first tree; a pull brings its record, `get` brings its files.
    (work / "a.txt").write_bytes(b"alpha v2\n")
    (work / "d/f.bin").unlink()
    selenite("push", "--token", registry.admin_token, cwd=work)
    git("pull", "-q", "--ff-only", cwd=plain)
    assert tree_bytes(plain) == files  # the files lag behind the record until `get`
    assert "run `selenite get`" in selenite("status", cwd=plain).stderr
    stale = selenite("push", "--token", registry.admin_token, cwd=plain, check=False)
    assert stale.returncode == 1 and "selenite get" in stale.stderr
    selenite("get", cwd=plain)
    assert tree_bytes(plain) == tree_bytes(work) == {"a.txt": b"alpha v2\n", "d/e.txt": files["d/e.txt"]}
    assert selenite("status", cwd=plain).stdout == ""
