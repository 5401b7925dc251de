"""Never lose an edit, never publish the wrong bytes (issue 12, items 8-11 and 17).

Real git, a real `selenite serve`; edits through links are made as a user would (chmod, write).
"""

from __future__ import annotations

import os
import shutil
import threading
import time
from pathlib import Path

import gypsum_client
import pytest
import requests

from selenite.tree.modes import MODES
from tests.support.cli import selenite
from tests.support.git import git
from tests.support.registry import Registry
from tests.support.seed import create_project, seed_three_versions, upload_version

pytestmark = pytest.mark.backends("folder")  # the subject is the client, not the storage


@pytest.fixture
def seeded(registry: Registry, tmp_path: Path) -> dict[str, dict[str, bytes]]:
    return seed_three_versions(registry, tmp_path)


def _edit_through_link(path: Path, data: bytes) -> Path:
    obj = path.resolve()
    os.chmod(obj, 0o644)
    path.write_bytes(data)
    return obj


def test_a_second_clone_keeps_an_edit_made_through_a_link(registry: Registry, seeded: dict[str, dict[str, bytes]],
                                                          tmp_path: Path) -> None:
    selenite("clone", "test/blob@v1", tmp_path / "q1", "--url", registry.url, cwd=tmp_path)
    obj = _edit_through_link(tmp_path / "q1" / "b/c.csv", b"my edit\n")
    r = selenite("clone", "test/blob@v1", tmp_path / "q2", "--url", registry.url, cwd=tmp_path)
    # The object is restored for both trees, and the edited bytes are kept where stderr says.
    assert obj.read_bytes() == seeded["v1"]["b/c.csv"]
    assert (tmp_path / "q2" / "b/c.csv").read_bytes() == seeded["v1"]["b/c.csv"]
    line = next(x for x in r.stderr.splitlines() if "kept at" in x)
    kept = Path(line.split("kept at ", 1)[1].split(", and", 1)[0])
    assert kept.read_bytes() == b"my edit\n"
    assert kept.is_relative_to(Path(os.environ["SELENITE_CACHE"]))


def test_a_second_hardlink_clone_keeps_an_edit_written_in_place(registry: Registry, seeded: dict[str, dict[str, bytes]],
                                                                 tmp_path: Path) -> None:
    h1 = tmp_path / "h1"
    selenite("clone", "test/blob@v1", h1, "--url", registry.url, "--link-mode", "hardlink", cwd=tmp_path)
    os.chmod(h1 / "a.txt", 0o644)
    (h1 / "a.txt").write_bytes(b"edited in place\n")
    r = selenite(
        "clone", "test/blob@v1", tmp_path / "h2", "--url", registry.url, "--link-mode", "hardlink", cwd=tmp_path
    )
    assert "kept at" in r.stderr
    assert (h1 / "a.txt").read_bytes() == b"edited in place\n"  # the tree's file kept its bytes
    assert (tmp_path / "h2" / "a.txt").read_bytes() == seeded["v1"]["a.txt"]


@pytest.mark.parametrize("mode", ["symlink", "hardlink"])
def test_push_refuses_a_tree_whose_object_was_edited_in_place(registry: Registry, seeded: dict[str, dict[str, bytes]],
                                                              tmp_path: Path, mode: str) -> None:
    work = tmp_path / "w"
    selenite("clone", "test/blob@v1", work, "--url", registry.url, "--link-mode", mode, cwd=tmp_path)
    target = work / "a.txt"
    os.chmod(target.resolve(), 0o644)
    target.write_bytes(b"edit!\n")  # same path, the shared object's bytes
    for args in (["--dry-run"], ["--version", "bad", "--token", registry.admin_token]):
        r = selenite("push", *args, cwd=work, check=False)
        assert r.returncode == 1, r.stderr
        assert "a.txt" in r.stderr and "selenite fsck --repair" in r.stderr
    assert "bad" not in selenite("ls", "test/blob", "--url", registry.url).stdout
    # After the repair the edit is a real file and publishes as such.
    selenite("fsck", "--repair", cwd=work)
    selenite("push", "--version", "good", "--force", "--token", registry.admin_token, cwd=work)  # based on v1
    selenite("clone", "test/blob@good", tmp_path / "check", "--url", registry.url, cwd=tmp_path)
    assert (tmp_path / "check" / "a.txt").read_bytes() == b"edit!\n"


def test_a_rewrite_while_push_hashes_never_loses_the_new_bytes(registry: Registry, tmp_path: Path) -> None:
    """The stat cache must not remember a md5 under a signature the file got after it was read:
    push would then link the path to the old content and drop the new bytes (review C2)."""
    old = os.urandom(24 << 20)  # large enough that the read is still running when the rewrite lands
    create_project(registry)
    upload_version(registry, tmp_path, "v1", {"big.dat": old})
    work = tmp_path / "w"
    selenite("clone", "test/blob@v1", work, "--url", registry.url, cwd=tmp_path)
    path = work / "big.dat"
    path.unlink()
    path.write_bytes(old)  # a regular file holding the published bytes: push would link it
    seen = os.stat(path).st_atime_ns
    rewritten = threading.Event()

    def rewrite_once_read_starts() -> None:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and os.stat(path).st_atime_ns == seen:
            pass  # the first read of the file moves its atime (relatime)
        fd = os.open(path, os.O_WRONLY)
        try:
            os.pwrite(fd, b"NEW!", 0)  # same size, new bytes: only the content tells
        finally:
            os.close(fd)
        rewritten.set()

    watcher = threading.Thread(target=rewrite_once_read_starts, daemon=True)
    watcher.start()
    selenite("push", "--dry-run", cwd=work)  # plans: hashes big.dat while it is rewritten
    watcher.join(130)
    if not rewritten.is_set():
        pytest.skip("this filesystem does not update atime on read: cannot time the rewrite")
    new = b"NEW!" + old[4:]
    assert path.read_bytes() == new
    r = selenite("push", "--version", "v2", "--token", registry.admin_token, cwd=work)
    assert "1 uploaded" in r.stdout, r.stdout
    assert path.read_bytes() == new  # still the user's bytes, now a link to them
    selenite("clone", "test/blob@v2", tmp_path / "check", "--url", registry.url, cwd=tmp_path)
    assert (tmp_path / "check" / "big.dat").read_bytes() == new


def test_a_racily_clean_object_is_not_signed(registry: Registry, seeded: dict[str, dict[str, bytes]],
                                             tmp_path: Path) -> None:
    """An object whose mtime is not safely in the past when it is checked (here: ahead of the clock,
    as on a skewed file server) is not signed: a same-size write that leaves the same mtime (a
    write in the same timestamp tick; here os.utime puts it back) is still caught."""
    work = tmp_path / "w"
    selenite("clone", "test/blob@v1", work, "--url", registry.url, cwd=tmp_path)
    obj = (work / "b/c.csv").resolve()
    os.chmod(obj, 0o644)
    tick = time.time_ns() + 30 * 10**9
    os.utime(obj, ns=(tick, tick))  # touched: the content is intact, the signature is not
    assert selenite("status", cwd=work).stdout == ""  # re-hashed: intact
    obj.write_bytes(b"x,y\n9,9\n")  # same size as before
    os.utime(obj, ns=(tick, tick))
    st = selenite("status", cwd=work).stdout
    assert "object corrupted" in st and "b/c.csv" in st
    r = selenite("push", "--dry-run", cwd=work, check=False)
    assert r.returncode == 1 and "selenite fsck --repair" in r.stderr


@pytest.mark.parametrize("mode", MODES)
def test_the_base_version_is_what_head_records(registry: Registry, seeded: dict[str, dict[str, bytes]],
                                               tmp_path: Path, mode: str) -> None:
    work = tmp_path / "w"
    selenite("clone", "test/blob@v1", work, "--url", registry.url, "--link-mode", mode, cwd=tmp_path)
    (work / "more.txt").write_text("more\n")
    assert "pushed test/blob/v4" in selenite("push", "--force", "--token", registry.admin_token, cwd=work).stdout
    branch = git("rev-parse", "--abbrev-ref", "HEAD", cwd=work).strip()
    git("checkout", "-q", "v1", cwd=work)
    assert "test/blob@v1:" in selenite("status", cwd=work).stderr
    selenite("get", cwd=work)  # a hardlink/copy tree's files follow its record (a symlink tree's already do)
    r = selenite("push", "--dry-run", cwd=work)
    assert "the tree is test/blob/v1 unchanged" in r.stderr
    git("checkout", "-q", branch, cwd=work)
    assert "test/blob@v4:" in selenite("status", cwd=work).stderr


def _cache_objects() -> set[str]:
    return {p.name for p in (Path(os.environ["SELENITE_CACHE"]) / "objects").glob("*/*/*/*")}


def test_gc_keeps_what_a_moved_tree_needs_once_the_registry_dropped_it(registry: Registry, tmp_path: Path) -> None:
    create_project(registry)
    upload_version(registry, tmp_path, "v1", {"only.txt": b"the only copy soon\n"})
    selenite("clone", "test/blob@v1", tmp_path / "t1", "--url", registry.url, cwd=tmp_path)
    (tmp_path / "t1").rename(tmp_path / "t1moved")
    gypsum_client.remove_version("test", "blob", "v1", url=registry.url, token=registry.admin_token)
    r = selenite("gc", cwd=tmp_path)
    assert "forgot" in r.stderr and "removed 0 object(s)" in r.stderr
    assert "the registry no longer holds" in r.stderr and "--force" in r.stderr
    assert (tmp_path / "t1moved" / "only.txt").read_bytes() == b"the only copy soon\n"
    # Any command inside the moved tree registers it again: from then on its links pin the object.
    selenite("status", cwd=tmp_path / "t1moved")
    r = selenite("gc", "--force", cwd=tmp_path)
    assert "removed 0 object(s)" in r.stderr and "1 working tree(s)" in r.stderr
    assert (tmp_path / "t1moved" / "only.txt").read_bytes() == b"the only copy soon\n"


def test_gc_keeps_what_head_index_and_tags_name(registry: Registry, seeded: dict[str, dict[str, bytes]],
                                                tmp_path: Path) -> None:
    work = tmp_path / "w"
    selenite("clone", "test/blob@v1", work, "--url", registry.url, cwd=tmp_path)
    selenite("unlock", "a.txt", cwd=work)
    (work / "a.txt").write_bytes(b"alpha, edited\n")
    selenite("push", "--force", "--token", registry.admin_token, cwd=work)  # v4 (from v1): a.txt, new content
    os.unlink(work / "dup1.txt")  # deleted on disk, still in the index and in HEAD
    before = _cache_objects()
    selenite("gc", "--force", cwd=tmp_path)  # --force: only what the trees name protects anything
    assert _cache_objects() == before
    git("checkout", "-q", "--", "dup1.txt", cwd=work)
    git("checkout", "-q", "v1", cwd=work)  # v1's a.txt is named by the tag only
    assert (work / "a.txt").read_bytes() == seeded["v1"]["a.txt"]
    assert (work / "dup1.txt").read_bytes() == seeded["v1"]["dup1.txt"]


def test_gc_keeps_objects_when_the_registry_cannot_be_asked(registry: Registry, seeded: dict[str, dict[str, bytes]],
                                                            tmp_path: Path) -> None:
    selenite("clone", "test/blob@v1", tmp_path / "w", "--url", registry.url, cwd=tmp_path)
    shutil.rmtree(tmp_path / "w")
    registry.stop()
    before = _cache_objects()
    r = selenite("gc", cwd=tmp_path)
    assert "removed 0 object(s)" in r.stderr and "could not be asked" in r.stderr
    assert _cache_objects() == before
    assert "removed 5 object(s)" in selenite("gc", "--force", cwd=tmp_path).stderr


@pytest.mark.parametrize("mode", MODES)
def test_get_unlock_drop_of_a_path_that_does_not_exist_fail(registry: Registry, seeded: dict[str, dict[str, bytes]],
                                                             tmp_path: Path, mode: str) -> None:
    work = tmp_path / "w"
    selenite("clone", "test/blob@v1", work, "--url", registry.url, "--link-mode", mode, cwd=tmp_path)
    for verb in ("get", "unlock", "drop"):
        r = selenite(verb, "nonexistent.txt", cwd=work, check=False)
        assert r.returncode == 1, (verb, r.stderr)
        assert "nonexistent.txt: no such file or folder" in r.stderr and "Traceback" not in r.stderr
    assert selenite("get", "b", cwd=work).returncode == 0  # a folder is fine


def test_get_in_a_clone_without_symlinks_says_so(registry: Registry, seeded: dict[str, dict[str, bytes]],
                                                 tmp_path: Path) -> None:
    selenite("clone", "test/blob@v1", tmp_path / "w", "--url", registry.url, cwd=tmp_path)
    git("-c", "core.symlinks=false", "clone", "-q", str(tmp_path / "w"), str(tmp_path / "nosym"), cwd=tmp_path)
    r = selenite("get", cwd=tmp_path / "nosym", check=False)
    assert r.returncode == 1
    assert "core.symlinks=false" in r.stderr and "--link-mode copy" in r.stderr
    assert "nothing to get" not in r.stderr


@pytest.mark.parametrize("mode", MODES)
def test_a_file_replaced_by_a_folder_is_deleted(registry: Registry, seeded: dict[str, dict[str, bytes]],
                                                tmp_path: Path, mode: str) -> None:
    work = tmp_path / "w"
    selenite("clone", "test/blob@v1", work, "--url", registry.url, "--link-mode", mode, cwd=tmp_path)
    os.unlink(work / "a.txt")
    (work / "a.txt").mkdir()
    (work / "a.txt" / "inner.txt").write_text("inner\n")
    st = selenite("status", cwd=work).stdout
    assert any(line.split() == ["deleted", "a.txt"] for line in st.splitlines()), st
    assert any(line.split() == ["new", "a.txt/inner.txt"] for line in st.splitlines()), st


def test_pushes_after_a_probational_version_link_to_the_last_approved_one(registry: Registry, tmp_path: Path) -> None:
    create_project(registry, uploaders=[{"id": "bob"}])  # bob may upload, untrusted: on probation
    upload_version(registry, tmp_path, "v1", {"a.txt": b"alpha\n", "b.txt": b"beta\n"})
    bob = registry.token("bob")
    work = tmp_path / "w"
    selenite("clone", "test/blob@v1", work, "--url", registry.url, cwd=tmp_path)
    (work / "p1.txt").write_text("p1\n")
    r = selenite("push", "--version", "b1", "--token", bob, cwd=work)
    assert "pushed test/blob/b1 (on probation" in r.stdout  # said, though --probation was not given
    (work / "p2.txt").write_text("p2\n")
    r = selenite("push", "--version", "b2", "--token", bob, cwd=work)
    assert "pushed test/blob/b2 (on probation" in r.stdout
    assert "2 linked, 2 uploaded" in r.stdout  # a.txt, b.txt link to v1; p1.txt (only in b1) and p2.txt upload
    selenite("clone", "test/blob@b2", tmp_path / "check", "--url", registry.url, cwd=tmp_path)
    assert (tmp_path / "check" / "p1.txt").read_text() == "p1\n"
    assert (tmp_path / "check" / "p2.txt").read_text() == "p2\n"


def test_gc_and_drop_keep_the_bytes_of_an_edited_object(registry: Registry, seeded: dict[str, dict[str, bytes]],
                                                        tmp_path: Path) -> None:
    work = tmp_path / "w"
    selenite("clone", "test/blob@v1", work, "--url", registry.url, cwd=tmp_path)
    _edit_through_link(work / "a.txt", b"edited, then dropped\n")
    r = selenite("drop", "a.txt", cwd=work)
    kept = Path(next(x for x in r.stderr.splitlines() if "kept at" in x).split("kept at ", 1)[1].split(", and", 1)[0])
    assert kept.read_bytes() == b"edited, then dropped\n"
    _edit_through_link(work / "b/c.csv", b"edited, then collected\n")
    shutil.rmtree(work)
    r = selenite("gc", cwd=tmp_path)
    kept = Path(next(x for x in r.stderr.splitlines() if "kept at" in x).split("kept at ", 1)[1].split(", and", 1)[0])
    assert kept.read_bytes() == b"edited, then collected\n"


@pytest.mark.parametrize("mode", MODES)
def test_a_tree_deeper_than_sqlite_can_open_clones_and_pushes(registry: Registry, seeded: dict[str, dict[str, bytes]],
                                                              tmp_path: Path, mode: str) -> None:
    # The tree's stat cache (.git/selenite/hashes.sqlite) would pass SQLite's 512-byte path limit.
    deep = tmp_path
    while len(str(deep)) < 520:
        deep = deep / ("d" * 60)
    deep.mkdir(parents=True)
    work = deep / "w"
    selenite("clone", "test/blob@v1", work, "--url", registry.url, "--link-mode", mode, cwd=tmp_path)
    (work / "a.txt").unlink()
    (work / "a.txt").write_bytes(b"deep edit\n")
    env = {"SELENITE_TOKEN": registry.admin_token, "SELENITE_URL": registry.url}
    selenite("push", "--version", "deep", "--force", cwd=work, env=env)  # based on v1, latest is v3
    served = requests.get(f"{registry.url}/file/test%2Fblob%2Fdeep%2Fa.txt", timeout=10)
    assert served.content == b"deep edit\n"
