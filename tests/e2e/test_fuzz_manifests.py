"""Random manifests from a hostile registry through `clone` and `get`, in every link mode (hypothesis).

Paths are drawn from what has hurt or could hurt: ``.git`` in every spelling a filesystem folds,
``..``, absolute paths (into a folder beside the tree), control characters, names around NAME_MAX,
a file and a folder of the same name, unicode, the record's own ``.selenite/tree.json``. Some files
are links to other versions' paths drawn the same way.

The properties, for every example and mode:
- the command exits 0, or 1 with one line (``selenite: error: ...``), never a crash;
- a refused clone leaves no folder; nothing outside the tree and the cache changes (a folder beside
  the tree and the home folder are snapshotted); the cache only gains objects where keys live;
- ``.git`` holds nothing a benign clone's does not: the same config keys, the same hooks, no
  ``commondir``; ``get`` changes nothing in it but selenite's own state and what git writes;
- every symlink of the tree resolves into the cache.

The CLI runs in this process (``tests.support.cli.selenite_in_process``), as a user's command would but
without an interpreter start per call, so the whole file stays within a minute.
"""

from __future__ import annotations

import hashlib
import os
import re
from datetime import timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from tests.support.cli import selenite_in_process
from tests.support.evilreg import EvilRegistry

MODES = ["symlink", "hardlink", "copy"]
ABS = "@ABS@"  # replaced by a folder beside the tree: an absolute path must never reach it

COMPONENTS = [
    ".git", ".GIT", ".Git", ".git.", ".git ", ".git. ", "git~1", "GIT~1", ".g\u200cit", "..", ".", "", "..links",
    "..manifest", "a", "b", "data", ".selenite", "tree.json", "selenite", "objects", "hooks", "config", "commondir",
    "x.csv", "L" * 250, "M" * 256, "N" * 255, "\u00e9t\u00e9", "\u6570\u636e" * 40, "\u202eevil", "a\x1b[2K", "n\x00",
    "t\tb", "nl\n", "c1\x85", "del\x7f", "a\\b", "C:", "~", "-rf", " sp ", "*", "?",
]
GOOD = ["a", "b", "data", "x.csv", "sub", ".hidden", "git", ".gitx", "L" * 250, "\u00e9t\u00e9", "\u6570" * 80,
        "sp ace", "-rf", "~"]
component = st.one_of(st.sampled_from(COMPONENTS), st.text(max_size=6))
good_component = st.one_of(st.sampled_from(GOOD), st.text("abcXYZ019._-\u00e9\u6570", min_size=1, max_size=8))
rel_path = st.lists(component, min_size=1, max_size=4).map("/".join)
hostile_path = st.one_of(rel_path, component.map(lambda c: f"{ABS}/{c}"))
good_path = st.lists(good_component, min_size=1, max_size=3).map("/".join)


@st.composite
def manifests(draw: st.DrawFn) -> tuple[dict[str, bytes], dict[str, str]]:
    """({path: bytes}, {path: link target path}): a few plausible paths, often one hostile path
    among them, sometimes a file and a folder of the same name (``a`` and ``a/b``)."""
    files = draw(st.dictionaries(good_path, st.binary(max_size=12), min_size=1, max_size=4))
    if draw(st.integers(0, 9)) < 6:
        files[draw(hostile_path)] = b"[core]\n\tfsmonitor = touch pwned\n"
    if draw(st.integers(0, 9)) == 0:
        p = draw(st.sampled_from(sorted(files)))
        files[f"{p}/{draw(good_component)}"] = b"under a file\n"
    links = {p: draw(st.one_of(good_path, hostile_path)) for p in sorted(files) if draw(st.integers(0, 5)) == 0}
    return files, links


def _snapshot(top: Path, skip: tuple[str, ...] = ()) -> dict[str, object]:
    """{relative path: what it is} for everything under ``top`` (symlinks not followed)."""
    out: dict[str, object] = {}
    for dirpath, dirs, files in os.walk(top):
        rel_dir = os.path.relpath(dirpath, top)
        dirs[:] = [d for d in dirs if os.path.normpath(os.path.join(rel_dir, d)) not in skip]
        for name in dirs + files:
            full = os.path.join(dirpath, name)
            rel = os.path.normpath(os.path.join(rel_dir, name))
            st_ = os.lstat(full)
            if os.path.islink(full):
                out[rel] = ("link", os.readlink(full))
            elif os.path.isdir(full):
                out[rel] = ("dir",)
            else:
                out[rel] = ("file", st_.st_size, Path(full).read_bytes() if st_.st_size < 4096 else st_.st_mtime_ns)
    return out


_GIT_WRITES = ("objects", "refs", "logs", "index", "selenite", "COMMIT_EDITMSG", "ORIG_HEAD")


def _git_state(root: Path) -> dict[str, object]:
    """``.git`` but what git and selenite write there as they work (objects, refs, their own state)."""
    return {p: v for p, v in _snapshot(root / ".git").items() if p.split("/")[0] not in _GIT_WRITES}


def _config_keys(root: Path) -> set[str]:
    import subprocess

    out = subprocess.run(["git", "config", "--local", "--list", "--name-only"], cwd=root, capture_output=True,
                         text=True, check=True).stdout
    return set(out.split())


_KEY_LAYOUT = re.compile(r"objects/[0-9a-f]{2}/[0-9a-f]{2}/(MD5E-[^/]+)/\1\Z")


def _check_exit(code: int, stderr: str, what: str) -> None:
    assert code in (0, 1), f"{what}: exit {code}\n{stderr}"
    assert "Traceback" not in stderr and "unexpected" not in stderr, f"{what}: {stderr}"
    if code == 1:
        last = stderr.strip().splitlines()[-1]
        assert last.startswith("selenite: error: "), f"{what}: {stderr}"


@pytest.mark.parametrize("mode", MODES)
def test_random_manifests_never_escape_the_tree(evilreg: EvilRegistry, tmp_path: Path, mode: str) -> None:
    cache = Path(os.environ["SELENITE_CACHE"])
    home = Path(os.environ["HOME"])
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "canary").write_bytes(b"keep\n")
    work = tmp_path / "work"
    work.mkdir()

    evilreg.add_version("p", "benign", "v1", {"a.txt": b"a\n", "d/b.csv": b"b\n"})
    base = work / "benign"
    _check_exit(
        *selenite_in_process("clone", "--url", evilreg.url, "--link-mode", mode, "p/benign", str(base), cwd=work),
        "benign",
    )
    base_git = set(_git_state(base))
    base_config = _config_keys(base)
    hooks = _snapshot(base / ".git" / "hooks")
    counter = iter(range(10_000))
    outcomes: dict[str, int] = {"cloned": 0, "refused": 0, "got": 0}

    @settings(max_examples=25, deadline=timedelta(seconds=60), database=None,
              suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
    @given(manifests())
    # Whatever the draw, one manifest that must clone and one that must be refused run first, so both
    # sides of the properties are checked on every run (25 random draws once gave 25 refusals).
    @example(({"a.txt": b"fine\n", "d/x.csv": b"x,y\n"}, {}))
    @example(({"ok.txt": b"ok\n", ".git/config": b"[core]\n\tfsmonitor = touch pwned\n"}, {}))
    def one(drawn: tuple[dict[str, bytes], dict[str, str]]) -> None:
        files, links = drawn
        n = next(counter)
        subst = {p.replace(ABS, str(outside)): d for p, d in files.items()}
        extra = {}
        for p, target in links.items():
            t = target.replace(ABS, str(outside))
            data = files[p]
            extra[p.replace(ABS, str(outside))] = {
                "size": len(data), "md5sum": hashlib.md5(data).hexdigest(),
                "link": {"project": "p", "asset": "src", "version": "v0", "path": t}}
            evilreg.objects[f"p/src/v0/{t}"] = data
        evilreg.add_version("p", f"a{n}", "v1", subst, manifest=extra)
        before_outside, before_home = _snapshot(outside), _snapshot(home)
        dest = work / f"t{n}"
        code, err = selenite_in_process(
            "clone", "--url", evilreg.url, "--link-mode", mode, f"p/a{n}", str(dest), cwd=work
        )
        _check_exit(code, err, f"clone {sorted(subst)!r}")
        outcomes["cloned" if code == 0 else "refused"] += 1
        if code == 1:
            assert not dest.exists(), f"a refused clone left {dest}"
        assert _snapshot(outside) == before_outside
        assert _snapshot(home) == before_home
        for rel, what in _snapshot(cache / "objects").items():
            assert what[0] != "link", f"a symlink in the cache: {rel}"
            if what[0] == "file":
                assert _KEY_LAYOUT.match(f"objects/{rel}"), f"a file where no key lives: {rel}"
        if code == 1:
            return
        git_before = _git_state(dest)
        assert set(git_before) <= base_git, f"new files in .git: {set(git_before) - base_git}"
        assert _config_keys(dest) == base_config
        assert _snapshot(dest / ".git" / "hooks") == hooks
        assert os.readlink(dest / ".git" / "selenite" / "objects") == str(cache / "objects")
        for rel, what in _snapshot(dest, skip=(".git",)).items():
            if what[0] == "link":
                real = os.path.realpath(dest / rel)
                assert real.startswith(str(cache / "objects") + os.sep), f"{rel} -> {real}"
        code, err = selenite_in_process("get", cwd=dest)
        _check_exit(code, err, f"get {sorted(subst)!r}")
        outcomes["got"] += code == 0
        assert _git_state(dest) == git_before
        assert _snapshot(outside) == before_outside

    one()
    assert outcomes["cloned"] and outcomes["refused"], f"the manifests tested both sides: {outcomes}"
