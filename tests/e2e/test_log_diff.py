"""`selenite log` and `selenite diff` against one real `selenite serve` (issue 14 items 5 and 6):
versions newest first with a probational one marked; the changes between 2,000-file versions read
from manifests with no file request (counted at the server); a working tree's own changes; the
documented --json schemas (docs/user/history.md)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import gypsum_client as gc
import pytest

from tests.support.cli import selenite
from tests.support.env import isolated_vars
from tests.support.evilreg import EvilRegistry
from tests.support.files import write_tree
from tests.support.git import git
from tests.support.jsonschema import check_schema
from tests.support.registry import Registry, start_registry
from tests.support.seed import plant_version

N = 2000
V1 = {f"d{i % 20:02}/f{i:04}.txt": f"file {i}\n".encode() for i in range(N)}
MODIFIED = {"d00/f0000.txt": b"changed, and longer\n", "d01/f0001.txt": b"x\n"}
DELETED = ["d02/f0002.txt", "d03/f0003.txt", "d04/f0004.txt"]
ADDED = {"new/one.txt": b"one\n", "new/two.txt": b"two two\n"}
RENAMED = {"d05/f0005.txt": "moved/f0005.txt"}  # v2 links its new path to v1's old one
SMALL = {"a.txt": b"alpha\n", "b.txt": b"beta\n", "d.txt": b"delta\n", "keep.txt": b"kept\n"}

# The documented schemas (docs/user/json.md, docs/user/history.md).
LOG = [{"project": str, "asset": str, "version": str, "uploader": (str, None), "started": (str, None),
        "finished": (str, None), "probation": bool, "latest": bool, "files": (int, None), "bytes": (int, None)}]
SIDE = {"project": str, "asset": str, "version": (str, None)}
DIFF = {"old": SIDE, "new": SIDE, "equal": bool,
        "added": [{"path": str, "size": int}], "deleted": [{"path": str, "size": int}],
        "modified": [{"path": str, "old_size": int, "new_size": int}],
        "renamed": [{"old_path": str, "new_path": str, "size": int}],
        "totals": dict.fromkeys(["added", "deleted", "modified", "renamed", "unchanged", "added_bytes",
                                 "deleted_bytes", "modified_old_bytes", "modified_new_bytes", "renamed_bytes",
                                 "old_files", "new_files", "old_bytes", "new_bytes"], int)}


def _upload(reg: Registry, tmp: Path, asset: str, version: str, files: dict[str, bytes],
            links: dict[str, str] | None = None, probation: bool = False) -> None:
    """New bytes ``files`` plus ``links`` {new path: v1 path}; 8 PUTs at a time (the seeding is not
    the subject)."""
    d = write_tree(tmp / f"{asset}-{version}", files)
    specs = [{"from.path": p, "to.project": "proj", "to.asset": asset, "to.version": "v1", "to.path": t}
             for p, t in (links or {}).items()]
    init = gc.start_upload("proj", asset, version, files=sorted(files), links=specs, probation=probation,
                           url=reg.url, token=reg.admin_token, directory=str(d))
    # One at a time: gypsum_client's concurrency forks a multiprocessing Pool inside pytest, whose fork of a
    # process running coverage's threads can hang at the pool's exit (seen under load in CI).
    gc.upload_files(init, directory=str(d), url=reg.url, concurrent=1)
    gc.complete_upload(init, url=reg.url)


@pytest.fixture(scope="module")
def reg(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Registry]:
    """proj/data: v1 (2,000 files), v2 (v1 but for the changes above; the rest links to v1), v3 on
    probation; proj/small: v1. Read-only for every test of this module."""
    tmp = tmp_path_factory.mktemp("logdiff")
    with pytest.MonkeyPatch.context() as mp:
        for k, v in isolated_vars(tmp / "home", tmp_path_factory.mktemp("tpl"), tmp / "cache").items():
            mp.setenv(k, v)
        r = start_registry(tmp / "registry")
        try:
            gc.create_project("proj", owners=["admin"], url=r.url, token=r.admin_token)
            plant_version(r, "v1", V1, "proj", "data")  # 2,000 files in a second; uploaded, a minute
            kept = [p for p in V1 if p not in MODIFIED and p not in DELETED and p not in RENAMED]
            _upload(r, tmp, "data", "v2", {**MODIFIED, **ADDED},
                    links={**{p: p for p in kept}, **{new: old for old, new in RENAMED.items()}})
            _upload(r, tmp, "data", "v3", {"p.txt": b"proposed\n"}, probation=True)
            _upload(r, tmp, "small", "v1", SMALL)
            yield r
        finally:
            r.stop()


def test_diff_of_two_big_versions_reads_manifests_only(reg: Registry, tmp_path: Path) -> None:
    before = reg.stats()
    proc = selenite("diff", "--url", reg.url, "proj/data@v1", "proj/data@v2", cwd=tmp_path, check=False)
    after = reg.stats()
    assert proc.returncode == 1, proc.stderr
    # Two summaries and two manifests: no file of either version was read.
    manifests = sum(len(reg.get_raw(f"proj/data/{v}/..{n}")) for v in ("v1", "v2") for n in ("manifest", "summary"))
    assert after["file_get"] - before["file_get"] == 4
    assert after["file_get_bytes"] - before["file_get_bytes"] == manifests
    lines = proc.stdout.splitlines()
    expected = sorted(
        [(p, f"A  {p}  ({len(b)} B)") for p, b in ADDED.items()]
        + [(p, f"D  {p}  ({len(V1[p])} B)") for p in DELETED]
        + [(p, f"M  {p}  ({len(V1[p])} B -> {len(b)} B)") for p, b in MODIFIED.items()]
        + [(new, f"R  {old} -> {new}  ({len(V1[old])} B)") for old, new in RENAMED.items()])
    assert lines == [line for _, line in expected]
    assert "2 added, 3 deleted, 2 modified, 1 renamed" in proc.stderr

    # The same again, as JSON, from the cache: no request for a file of any kind.
    proc = selenite("diff", "--url", reg.url, "--json", "proj/data@v1", "proj/data@v2", cwd=tmp_path, check=False)
    assert proc.returncode == 1 and reg.stats()["file_get"] == after["file_get"]
    doc = json.loads(proc.stdout)
    check_schema(doc, DIFF)
    assert doc["old"] == {"project": "proj", "asset": "data", "version": "v1"} and not doc["equal"]
    assert [a["path"] for a in doc["added"]] == sorted(ADDED)
    assert doc["renamed"] == [{"old_path": "d05/f0005.txt", "new_path": "moved/f0005.txt", "size": 7}]
    assert doc["totals"]["unchanged"] == N - 6 and doc["totals"]["new_files"] == N - 1

    stat = selenite("diff", "--url", reg.url, "--stat", "proj/data@v1", "proj/data@v2", cwd=tmp_path, check=False)
    assert stat.returncode == 1 and f"{N} files" in stat.stdout and f"{N - 6} unchanged" in stat.stdout
    same = selenite("diff", "--url", reg.url, "proj/data@v2", "proj/data@v2", cwd=tmp_path, check=False)
    assert (same.returncode, same.stdout) == (0, "")
    for args, said in ((["proj/data@v9", "proj/data@v1"], "has no version 'v9'"),
                       (["v1"], "not inside a git working tree"),
                       (["v1", "v2"], "outside a working tree, name versions as PROJECT/ASSET@VERSION"),
                       (["a", "b", "c"], "at most two"),
                       (["proj/da/ta@v1", "proj/data@v1"], "expected VERSION or PROJECT/ASSET@VERSION")):
        bad = selenite("diff", "--url", reg.url, *args, cwd=tmp_path, check=False)
        assert bad.returncode == 2 and said in bad.stderr and len(bad.stderr.splitlines()) == 1, bad.stderr


def test_log_lists_every_version_newest_first_probation_marked(reg: Registry, tmp_path: Path) -> None:
    before = reg.stats()["file_get"]
    lines = selenite("log", "--url", reg.url, "proj/data", cwd=tmp_path).stdout.splitlines()
    first = reg.stats()["file_get"] - before
    assert [line.split()[0] for line in lines] == ["v3", "v2", "v1"]
    assert lines[0].endswith("(probation)") and lines[1].endswith("(latest)") and not lines[2].endswith(")")
    assert f"{N:,} files" in lines[2] and f"{N - 1:,} files" in lines[1] and "admin" in lines[2]
    # The latest marker, three summaries and three manifests; then the manifests come from the
    # cache but the probational one's (it may still change).
    assert first == 7
    before = reg.stats()["file_get"]
    rows = json.loads(selenite("log", "--url", reg.url, "--json", "proj/data", cwd=tmp_path).stdout)
    assert reg.stats()["file_get"] - before == 5
    check_schema(rows, LOG)
    assert [(r["version"], r["latest"], r["probation"]) for r in rows] == [
        ("v3", False, True), ("v2", True, False), ("v1", False, False)]
    assert rows[2]["files"] == N and rows[2]["bytes"] == sum(map(len, V1.values()))
    assert rows[0]["finished"] > rows[1]["finished"] > rows[2]["finished"]
    one = json.loads(selenite("log", "--url", reg.url, "--json", "-n", "1", "proj/data", cwd=tmp_path).stdout)
    assert one == rows[:1]
    env = selenite("log", "--json", "proj/data", cwd=tmp_path, env={"SELENITE_URL": reg.url}).stdout
    assert [r["version"] for r in json.loads(env)] == ["v3", "v2", "v1"]  # the registry of $SELENITE_URL
    for args, said in ((["proj/nope"], "has no asset 'nope'"), (["proj"], "expected PROJECT/ASSET"), ([], "name the")):
        bad = selenite("log", "--url", reg.url, *args, cwd=tmp_path, check=False)
        assert bad.returncode == 1 and said in bad.stderr and len(bad.stderr.splitlines()) == 1, bad.stderr


def test_diff_and_log_in_a_working_tree(reg: Registry, tmp_path: Path) -> None:
    tree = tmp_path / "small"
    selenite("clone", "--url", reg.url, "proj/small@v1", tree)
    git("clone", "-q", str(tree), str(tmp_path / "plain"), cwd=tmp_path)  # a plain git clone of the tree
    for where, args in ((tree, []), (tree, ["v1"]), (tmp_path / "plain", [])):
        proc = selenite("diff", *args, cwd=where, check=False)
        assert (proc.returncode, proc.stdout) == (0, ""), proc.stderr
    selenite("unlock", "a.txt", cwd=tree)
    (tree / "a.txt").write_bytes(b"alpha, edited\n")
    (tree / "sub").mkdir()
    git("mv", "b.txt", "sub/b.txt", cwd=tree)
    (tree / "d.txt").unlink()
    (tree / "new.txt").write_bytes(b"new\n")
    (tmp_path / "outside.txt").write_bytes(b"outside\n")
    (tree / "out.txt").symlink_to(tmp_path / "outside.txt")  # what a push would publish: the target's bytes
    (tree / "dangling.txt").symlink_to(tmp_path / "nothing")  # nothing to publish: left out, with a note
    for args in ([], ["v1"]):
        proc = selenite("diff", "--json", *args, cwd=tree, check=False)
        assert proc.returncode == 1, proc.stderr
        doc = json.loads(proc.stdout)
        check_schema(doc, DIFF)
        assert doc["new"] == {"project": "proj", "asset": "small", "version": None}  # the working tree
        assert doc["added"] == [{"path": "new.txt", "size": 4}, {"path": "out.txt", "size": 8}]
        assert "dangling.txt is a symlink to no file" in proc.stderr
        assert doc["deleted"] == [{"path": "d.txt", "size": 6}]
        assert doc["modified"] == [{"path": "a.txt", "old_size": 6, "new_size": 14}]
        assert doc["renamed"] == [{"old_path": "b.txt", "new_path": "sub/b.txt", "size": 5}]
        assert doc["totals"]["unchanged"] == 1
    # Offline: the base version's listing is the tree's own.
    reg.stop()
    try:
        proc = selenite("diff", "--stat", cwd=tree, check=False)
        assert proc.returncode == 1 and "2 added" in proc.stdout and "1 renamed" in proc.stdout, proc.stderr
    finally:
        reg.start()
    # Versions named in full are read from the tree's registry; log defaults to the tree's asset.
    proc = selenite("diff", "proj/data@v1", "proj/data@v2", "--stat", cwd=tree, check=False)
    assert proc.returncode == 1, proc.stderr
    lines = selenite("log", cwd=tree).stdout.splitlines()
    assert len(lines) == 1 and lines[0].startswith("v1") and lines[0].endswith("(latest)")


def test_what_a_hostile_registry_sends_is_checked_and_escaped(evilreg: EvilRegistry, tmp_path: Path) -> None:
    evilreg.add_version("p", "a", "v1", {"a.txt": b"a\n"})
    evilreg.add_version("p", "a", "v\x1b[2J2", {"a.txt": b"a\n", "b.txt": b"b\n"})  # a terminal escape
    evilreg.add_version("p", "a", "v3", {"../../escape": b"x"})  # a path out of any tree
    evilreg.add_version("p", "a", "v4", {"c.txt": b"c\n"}, finished=False)  # upload under way
    evilreg.put("p/a/junk/file.txt", b"a folder without a summary: not a version\n")
    evilreg.add_version("p", "a", "v5", {"e.txt": b"e\n"}, latest=False)
    evilreg.put("p/a/v5/..summary", {"upload_finish": "2020-01-01T05:00:00+05:00"})  # an offset: 2020, oldest
    evilreg.add_version("p", "a", "v6", {"f.txt": b"f\n"}, latest=False)
    evilreg.put("p/a/v6/..summary", {"upload_finish": "yesterday"})  # no time at all: listed last
    evilreg.put("p/empty/..permissions", {"owners": []})  # an asset with no version yet
    assert selenite("log", "--url", evilreg.url, "p/empty", cwd=tmp_path).stdout == ""
    proc = selenite("log", "--url", evilreg.url, "p/a", cwd=tmp_path)
    lines = proc.stdout.splitlines()
    assert lines[0].startswith("v4 ") and lines[0].endswith("(uploading)") and "? files" in lines[0]
    assert [line.split()[0] for line in lines[-2:]] == ["v5", "v6"]
    assert "\x1b" not in proc.stdout and any(line.startswith("v\\x1b[2J2 ") for line in lines)
    v3 = next(line for line in lines if line.startswith("v3 "))
    assert "? files" in v3 and "v3" in proc.stderr  # the unsafe manifest: a note, and the rest is listed
    rows = json.loads(selenite("log", "--url", evilreg.url, "--json", "p/a", cwd=tmp_path).stdout)
    check_schema(rows, LOG)
    assert {r["version"]: r["files"] for r in rows} == {"v4": None, "v3": None, "v\x1b[2J2": 2, "v1": 1, "v5": 1,
                                                        "v6": 1}
    bad = selenite("log", "--url", evilreg.url, "p/..a", cwd=tmp_path, check=False)
    assert bad.returncode == 1 and "asset name cannot start with '..'" in bad.stderr
    for args, said in ((["p/a@v1", "p/a@v3"], "../../escape"), (["p/a@v1", "p/a@v4"], "still being uploaded"),
                       (["p/a@v1", "p/a@..v2"], "version name cannot start with '..'")):
        bad = selenite("diff", "--url", evilreg.url, *args, cwd=tmp_path, check=False)
        assert bad.returncode == 2 and said in bad.stderr and len(bad.stderr.splitlines()) == 1, bad.stderr
    proc = selenite("diff", "--url", evilreg.url, "p/a@v1", "p/a@v\x1b[2J2", cwd=tmp_path, check=False)
    assert (proc.returncode, proc.stdout) == (1, "A  b.txt  (2 B)\n") and "\x1b" not in proc.stderr


@pytest.mark.parametrize("mode", ["hardlink", "copy"])
def test_diff_of_a_working_tree_of_hard_links_or_copies(reg: Registry, tmp_path: Path, mode: str) -> None:
    tree = tmp_path / mode
    selenite("clone", "--url", reg.url, "--link-mode", mode, "proj/small@v1", tree)
    proc = selenite("diff", cwd=tree, check=False)
    assert (proc.returncode, proc.stdout) == (0, ""), proc.stderr
    selenite("unlock", "a.txt", cwd=tree)
    (tree / "a.txt").write_bytes(b"alpha, edited\n")
    (tree / "b.txt").rename(tree / "c.txt")  # Git tracks the tree's record here, not its files
    (tree / "d.txt").unlink()
    proc = selenite("diff", "v1", cwd=tree, check=False)
    assert proc.returncode == 1, proc.stderr
    assert proc.stdout.splitlines() == ["M  a.txt  (6 B -> 14 B)", "R  b.txt -> c.txt  (5 B)", "D  d.txt  (6 B)"]
