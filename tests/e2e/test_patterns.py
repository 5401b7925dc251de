"""Pattern clones end to end: `clone --include/--exclude`, `get GLOB`, and push of a tree whose
unselected paths have no content, against a real `selenite serve` holding a 2,000-file version.

One registry for the module (the tests only read v1; each push makes its own asset's next version),
so the 2,000 files are uploaded once. Downloads are counted at the server: ``file_get`` counts the
summary, the manifest and each object (the batched route counts one per object); ``file_get_bytes``
their bytes.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import gypsum_client as gc
import pytest

from tests.support.cli import selenite, selenite_in_process
from tests.support.env import isolated_environ
from tests.support.git import git
from tests.support.registry import Registry, start_registry

PROJECT = "pat"
D1 = [f"d1/f{i:03d}.tsv" for i in range(60)]  # 'd1/*'
D1_SUB = [f"d1/sub/s{i}.tsv" for i in range(10)]  # not 'd1/*', but 'd1/**'
D1_CSV = [f"d1/c{i}.csv" for i in range(5)]  # 'd1/*', but '*.csv' excluded
D2 = [f"d2/x{i // 50}/g{i:03d}.dat" for i in range(100)]
UNIQUE = D1 + D1_SUB + D1_CSV + D2  # each its own content, so a download per file
POOL = {f"pool/p{i}.bin": f"pool {i}\n".encode() for i in range(20)}
# The other paths (d3) link to a few pooled files of another asset: 2,000 paths, few uploads.
REST = {f"d3/h{i:04d}.bin": f"pool/p{i % len(POOL)}.bin" for i in range(2000 - len(UNIQUE))}
FILES = {**{p: f"{p}\n".encode() * (1 + i % 7) for i, p in enumerate(UNIQUE)},
         **{p: POOL[to] for p, to in REST.items()}}


@pytest.fixture(scope="module")
def many(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Registry]:
    """A registry with 2,000-file v1s of assets ``sym``, ``copy`` and ``hardlink`` (one per push)."""
    base = tmp_path_factory.mktemp("patterns")
    saved = dict(os.environ)
    os.environ.clear()
    os.environ.update(isolated_environ(base / "env"))  # the module's own processes read no real home either
    reg = start_registry(base / "registry")
    try:
        gc.create_project(PROJECT, owners=["admin"], url=reg.url, token=reg.admin_token)
        _upload(reg, base, "pool", POOL, {})
        _upload(reg, base, "sym", {p: FILES[p] for p in UNIQUE}, {p: ("pool", to) for p, to in REST.items()})
        for asset in ("copy", "hardlink"):  # the same files, as links: no bytes uploaded again
            _upload(reg, base, asset, {}, {p: ("sym", p) for p in FILES})
        yield reg
    finally:
        reg.stop()
        os.environ.clear()
        os.environ.update(saved)


def _upload(reg: Registry, base: Path, asset: str, files: dict[str, bytes], links: dict[str, tuple[str, str]]) -> None:
    """v1 of ``asset`` through the real gypsum_client: ``files`` uploaded, ``links`` to (asset, path) of v1s."""
    src = base / f"src-{asset}"
    for rel, data in files.items():
        (src / rel).parent.mkdir(parents=True, exist_ok=True)
        (src / rel).write_bytes(data)
    specs = [{"from.path": p, "to.project": PROJECT, "to.asset": a, "to.version": "v1", "to.path": to}
             for p, (a, to) in links.items()]
    init = gc.start_upload(PROJECT, asset, "v1", files=sorted(files), links=specs, url=reg.url,
                           token=reg.admin_token, directory=str(src))
    # One at a time: gypsum_client's concurrency forks a multiprocessing Pool inside pytest, whose fork of a
    # process running coverage's threads can hang at the pool's exit (seen under load in CI).
    gc.upload_files(init, directory=str(src), url=reg.url, concurrent=1)
    gc.complete_upload(init, url=reg.url)


def _counted(reg: Registry, before: dict[str, int]) -> tuple[int, int]:
    after = reg.stats()
    return after["file_get"] - before["file_get"], after["file_get_bytes"] - before["file_get_bytes"]


def _size(paths: list[str]) -> int:
    return sum(len(FILES[p]) for p in paths)


def _statuses(work: Path) -> dict[str, str]:
    return _statuses_in(work, {})


def _statuses_in(work: Path, env: dict[str, str]) -> dict[str, str]:
    doc = json.loads(selenite("status", "--json", "--all", cwd=work, env=env).stdout)
    return {e["path"]: e["status"] for e in doc["paths"]}


def _with_content(statuses: dict[str, str]) -> set[str]:
    return {p for p, s in statuses.items() if s != "missing"}


def test_symlink_pattern_clone_get_and_push(many: Registry, tmp_path: Path) -> None:
    work = tmp_path / "sym"
    before = many.stats()
    out = selenite("clone", f"{PROJECT}/sym@v1", work, "--include", "d1/*", "--url", many.url).stderr
    gets, got_bytes = _counted(many, before)
    meta = sum(len(many.get_raw(f"{PROJECT}/sym/v1/{name}")) for name in ("..summary", "..manifest"))
    wanted = D1 + D1_CSV  # 'd1/*': not d1/sub
    # Only the matching files were downloaded: the summary, the manifest, and one object each.
    assert gets == 2 + len(wanted), out
    assert got_bytes == meta + _size(wanted)
    assert f"content of the {len(wanted)} selected" in out
    # Every path is in the tree (committed as a link); the rest are links without content.
    assert sorted(git("ls-files", cwd=work).split()) == sorted(FILES)
    assert all(os.path.islink(work / p) for p in FILES)
    statuses = _statuses(work)
    assert _with_content(statuses) == set(wanted) and len(statuses) == 2000
    assert git("config", "--get-all", "selenite.include", cwd=work).split() == ["d1/*"]
    shown = selenite("status", cwd=work)  # the unselected are counted, not listed
    assert shown.stdout == "" and f"{2000 - len(wanted)} content missing" in shown.stderr
    assert f"note: {2000 - len(wanted)} of the paths without content are outside" in shown.stderr
    again = selenite("clone", f"{PROJECT}/sym@v1", work, "--url", many.url).stderr  # a no-op, that says so
    assert "already a clone" in again and "its selection stays --include 'd1/*'" in again

    # get without arguments keeps to the recorded selection, and says what it leaves out.
    before = many.stats()
    out = selenite("get", cwd=work).stderr
    assert _counted(many, before)[0] == 0
    assert "nothing to get: every selected link's content is here" in out
    assert f"{2000 - len(wanted)} file(s) outside this tree's selection (--include 'd1/*')" in out
    # Globs are matched against the tree's paths below the current folder (not expanded on disk);
    # one that matches nothing there is refused before anything is fetched, as a typo is.
    before = many.stats()
    refused = selenite("get", "x0/*", "**/sub/s1.tsv", cwd=work / "d2", check=False)
    assert refused.returncode == 1 and refused.stderr.count("\n") == 1 and "below d2" in refused.stderr
    assert _counted(many, before)[0] == 0
    selenite("get", "x0/*", cwd=work / "d2")
    assert _counted(many, before)[0] == 50
    before = many.stats()
    selenite("get", "d2/**", "d1/sub", cwd=work)  # a glob and a plain folder together
    assert _counted(many, before)[0] == len(D2) - 50 + len(D1_SUB)
    assert _with_content(_statuses(work)) == set(wanted + D2 + D1_SUB)
    refused = selenite("get", "--all", "d3", cwd=work, check=False)
    assert refused.returncode == 1 and "--all" in refused.stderr

    # Push after editing one fetched file: one upload, every other path sent as a link.
    target = work / D1[0]
    selenite("unlock", D1[0], cwd=work)
    target.write_bytes(b"edited\n")
    git("commit", "-qam", "edit one", cwd=work)
    uploads = many.uploaded_files()
    selenite("push", "--token", many.admin_token, cwd=work)
    assert many.uploaded_files() - uploads == 1
    pushed = gc.fetch_manifest(PROJECT, "sym", "v2", url=many.url, cache_dir=str(tmp_path / "gc2"))
    assert sorted(pushed) == sorted(FILES)
    assert pushed[D1[0]]["size"] == len(b"edited\n")
    assert all("link" in pushed[p] for p in FILES if p != D1[0])  # nothing else re-uploaded

    # pull keeps to the selection: in another pattern clone of v1 (its own cache), v2's changed path
    # is outside 'x0/' and stays without content; the selected paths keep theirs.
    other, env = tmp_path / "other", {"SELENITE_CACHE": str(tmp_path / "other-cache")}
    selenite("clone", f"{PROJECT}/sym@v1", other, "--include", "x0/", "--url", many.url, env=env)
    selenite("pull", cwd=other, env=env)
    statuses = _statuses_in(other, env)
    assert _with_content(statuses) == set(D2[:50]) and statuses[D1[0]] == "missing"
    assert "v2" in selenite("status", cwd=other, env=env).stderr


@pytest.mark.parametrize("mode", ["copy", "hardlink"])
def test_include_exclude_in_copy_and_hardlink_trees(many: Registry, tmp_path: Path, mode: str) -> None:
    # A selection that matches nothing: said in one line, and the tree is still made, with no content.
    empty = tmp_path / "empty"
    before = many.stats()
    out = selenite("clone", f"{PROJECT}/{mode}@v1", empty, "--include", "nothing/*", "--link-mode", mode,
                   "--url", many.url).stderr
    assert "no path of" in out and "matches --include 'nothing/*'" in out
    assert _counted(many, before)[0] == 2  # summary and manifest only
    assert _with_content(_statuses(empty)) == set()
    # The selection is changed in git config, as documented; a plain get then fetches what it adds.
    git("config", "--add", "selenite.include", "x0/", cwd=empty)
    before = many.stats()
    assert "1950 file(s) outside this tree's selection" in selenite("get", cwd=empty).stderr
    assert _counted(many, before)[0] == 50
    assert {p for p in FILES if os.path.lexists(empty / p)} == set(D2[:50])  # placed: d2/x0, at any depth

    work = tmp_path / mode
    before = many.stats()
    selenite("clone", f"{PROJECT}/{mode}@v1", work, "--include", "d1/**", "--include", "/d2/x1/*",
             "--exclude", "*.csv", "--link-mode", mode, "--url", many.url)
    wanted = D1 + D1_SUB + D2[50:]
    assert _counted(many, before)[0] == len(wanted)  # the version is cached now: only the selection
    on_disk = {p for p in FILES if os.path.lexists(work / p)}
    assert on_disk == set(wanted)  # only the selection is placed; the rest is pending in the record
    assert all((work / p).read_bytes() == FILES[p] for p in wanted)
    statuses = _statuses(work)
    assert len(statuses) == 2000 and _with_content(statuses) == set(wanted)
    assert "missing" in selenite("status", cwd=work).stderr

    before = many.stats()
    selenite("get", "*.csv", cwd=work)  # a name pattern, at any depth
    assert _counted(many, before)[0] == len(D1_CSV)
    assert (work / D1_CSV[0]).read_bytes() == FILES[D1_CSV[0]]

    # Push after editing one file: pending paths go as links, the record keeps all 2,000.
    if mode == "hardlink":
        selenite("unlock", D1[1], cwd=work)
    (work / D1[1]).write_bytes(b"edited here\n")
    uploads = many.uploaded_files()
    selenite("push", "--token", many.admin_token, cwd=work)
    assert many.uploaded_files() - uploads == 1
    pushed = gc.fetch_manifest(PROJECT, mode, "v2", url=many.url, cache_dir=str(tmp_path / "gc"))
    assert sorted(pushed) == sorted(FILES) and pushed[D1[1]]["size"] == len(b"edited here\n")
    assert all("link" in pushed[p] for p in FILES if p != D1[1])
    assert _with_content(_statuses(work)) == {*wanted, *D1_CSV}  # still a pattern tree, now of v2


def test_a_pattern_that_can_match_nothing_is_refused_before_anything_is_made(tmp_path: Path) -> None:
    dest = tmp_path / "never"
    for option, bad in (("--include", "a//b"), ("--exclude", "../x"), ("--include", "/")):
        # No registry is asked: the port is closed, and the refusal comes first.
        code, err = selenite_in_process("clone", "p/a", str(dest), option, bad, "--url", "http://127.0.0.1:9",
                                        cwd=tmp_path)
        assert code == 1 and err.count("\n") == 1 and f"{option} {bad!r}" in err, err
        assert not dest.exists()
