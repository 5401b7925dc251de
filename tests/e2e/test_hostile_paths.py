"""Paths chosen by someone else never reach Git's folder, the cache, or anything outside the tree.

A hostile registry (tests/support/evilreg.py) serves crafted manifests; a real `selenite serve` takes the
versions an attacker could publish; an attacker's working tree is cloned with plain `git clone`.
Issue 12 items 1, 2, 3, 5, 13, 14 and F14 (docs/user/working-trees.md, docs/user/push.md).
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from tests.e2e.test_push import git, seed
from tests.support.cli import selenite, selenite_in_process
from tests.support.evilreg import EvilRegistry, Reply
from tests.support.files import md5
from tests.support.registry import Registry

MODES = ["symlink", "hardlink", "copy"]

# Each reaches Git's folder on some filesystem (or the shared cache through the anchor).
GIT_PATHS = [
    ".git/config", ".GIT/config", ".Git/hooks/pre-commit", ".git./config", ".git /config", ".git. . /config",
    "git~1/config", "GIT~1/config", ".g\u200cit/config", "nested/.git/config", "a/b/.git/HEAD", ".git/commondir",
    ".git/selenite/objects/zz/planted.txt",
]
OTHER_BAD = [
    "../escape.txt", "/tmp/abs.txt", "a/../../mid.txt", "a\\b.txt", "C:evil.txt", "a//b.txt", "./a.txt",
    "..hidden/x.txt", "esc\x1b[2K.txt", "nul\x00.txt", "del\x7f.txt", "c1\x85.txt", "nl\n.txt", "L" * 256,
    "d/" + "x" * 300 + "/f.txt",
]


def _clone(reg_url: str, source: str, dest: Path, mode: str) -> subprocess.CompletedProcess[str]:
    return selenite("clone", "--url", reg_url, "--link-mode", mode, source, dest, check=False)


def _one_line_refusal(proc: subprocess.CompletedProcess[str]) -> str:
    assert proc.returncode == 1, (proc.returncode, proc.stderr)
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("selenite: error: "), proc.stderr
    assert "Traceback" not in proc.stderr
    return lines[0]


def _cache_files(cache: Path) -> set[str]:
    return {str(p.relative_to(cache)) for p in cache.rglob("*") if p.is_file() or p.is_symlink()}


@pytest.mark.parametrize("mode", MODES)
def test_manifest_paths_into_git_or_out_of_the_tree_are_refused(evilreg: EvilRegistry, tmp_path: Path,
                                                                 mode: str) -> None:
    cache = Path(os.environ["SELENITE_CACHE"])
    for i, bad in enumerate(GIT_PATHS + OTHER_BAD):
        evilreg.add_version("p", f"a{i}", "v1", {"ok.txt": b"fine\n", bad: b"[core]\n\tfsmonitor = touch pwned\n"})
    before = _cache_files(cache)
    for i, bad in enumerate(GIT_PATHS + OTHER_BAD):
        dest = tmp_path / f"t{i}"
        code, err = selenite_in_process("clone", "--url", evilreg.url, "--link-mode", mode, f"p/a{i}", str(dest),
                                        cwd=tmp_path)
        line = _one_line_refusal(subprocess.CompletedProcess([], code, "", err))
        assert f"p/a{i}/v1" in line, line
        assert "\x1b" not in line and "\n" not in line.rstrip("\n"), "names are shown escaped"
        assert not dest.exists(), f"{bad!r}: nothing may be written"
    assert not (tmp_path / "pwned").exists()
    assert not list(tmp_path.parent.glob("**/planted.txt"))
    assert {p for p in _cache_files(cache) - before if "objects" in p.split("/")[0]} == set()


def test_link_targets_are_checked_too(evilreg: EvilRegistry, tmp_path: Path) -> None:
    evilreg.add_version("p", "a", "v1", {"ok.txt": b"fine\n"}, manifest={
        "x.txt": {"size": 5, "md5sum": "d8e8fca2dc0f896fd7cb4cb0031ba249",
                  "link": {"project": "p", "asset": "a", "version": "v0", "path": ".git/config"}}})
    line = _one_line_refusal(_clone(evilreg.url, "p/a@v1", tmp_path / "t", "symlink"))
    assert "links 'x.txt' to '.git/config'" in line
    assert not (tmp_path / "t").exists()


def test_a_file_and_a_folder_of_the_same_name_are_refused(evilreg: EvilRegistry, tmp_path: Path) -> None:
    evilreg.add_version("p", "a", "v1", {"d": b"file\n", "d/x.txt": b"inside\n"})
    line = _one_line_refusal(_clone(evilreg.url, "p/a@v1", tmp_path / "t", "copy"))
    assert "lists both 'd' and 'd/x.txt'" in line


@pytest.mark.backends("folder")
def test_names_that_fit_name_max_clone_and_push(registry: Registry, tmp_path: Path) -> None:
    """Names of 240-255 bytes (80 CJK characters) are legal: clone, unlock, push and fsck hold them."""
    long_ascii, long_cjk = "L" * 251 + ".txt", "\u6570" * 83 + ".csv"  # 255 and 253 bytes
    assert len(long_ascii.encode()) == 255 and len(long_cjk.encode()) == 253
    seed(registry, tmp_path, {long_ascii: b"ascii\n", f"d/{long_cjk}": b"cjk\n", "ok.txt": b"ok\n"})
    work = tmp_path / "w"
    selenite("clone", "--url", registry.url, "proj/data@v1", work)
    assert (work / long_ascii).read_bytes() == b"ascii\n"
    selenite("unlock", long_ascii, cwd=work)
    (work / long_ascii).write_bytes(b"edited\n")
    new = "N" * 250 + ".bin"
    (work / new).write_bytes(b"new\n")
    git("add", "-A", cwd=work)
    git("commit", "-qm", "edit", cwd=work)
    pushed = selenite("push", "--token", registry.admin_token, cwd=work)
    assert "proj/data/v2" in pushed.stdout
    assert os.path.islink(work / new) and (work / new).read_bytes() == b"new\n"
    assert git("tag", cwd=work).split() == ["v1", "v2"]
    proc = selenite("fsck", "--repair", cwd=work, check=False)
    assert proc.returncode == 0 and "Traceback" not in proc.stderr, proc.stderr
    again = tmp_path / "again"
    selenite("clone", "--url", registry.url, "proj/data@v2", again, "--link-mode", "copy")
    assert (again / long_ascii).read_bytes() == b"edited\n"


@pytest.mark.parametrize("mode", ["hardlink", "copy"])
def test_get_never_writes_through_a_committed_folder_symlink(evilreg: EvilRegistry, tmp_path: Path, mode: str) -> None:
    """F3: an attacker's shared tree holds ``escape -> <victim's ~/.ssh>`` and a record naming
    ``escape/authorized_keys``; a plain `git clone` plus `selenite get` must not write there."""
    payload = b"ssh-ed25519 AAAAC3Nza attacker@evil\n"
    evilreg.add_version("p", "a", "v1", {"data.csv": b"a,b\n1,2\n"})
    evilreg.add_version("p", "a", "v2", {"innocent.txt": payload}, latest=False, on_probation=True)
    ssh = tmp_path / "victim-home" / ".ssh"
    ssh.mkdir(parents=True)
    att = tmp_path / "attacker"
    selenite("clone", "--url", evilreg.url, "--link-mode", mode, "p/a@v1", att)
    record = json.loads((att / ".selenite/tree.json").read_text())
    record["files"]["escape/authorized_keys"] = f"MD5E-s{len(payload)}--{md5(payload)}"
    (att / ".selenite/tree.json").write_text(json.dumps(record, indent=1))
    os.symlink(ssh, att / "escape")
    git("add", "-f", "escape", ".selenite/tree.json", cwd=att)
    git("commit", "-q", "--no-verify", "-m", "share", cwd=att)

    victim = tmp_path / "victim"
    git("clone", "-q", str(att), str(victim), cwd=tmp_path)
    proc = selenite("get", cwd=victim, check=False)
    line = _one_line_refusal(proc)
    assert "'escape' is a symlink" in line
    assert not (ssh / "authorized_keys").exists()
    assert list(ssh.iterdir()) == []


# --- version names become Git tags (item 5, F13) -----------------------------------------------------

BAD_TAGS = ["--file=data.csv", "-v", "v 1", "rel~1", "x.lock", "a..b", "v1^", "v:1", "v\x1b1"]


def test_registry_version_names_that_are_not_tags_are_refused_at_clone(evilreg: EvilRegistry, tmp_path: Path) -> None:
    (tmp_path / "data.csv").write_text("not an option file\n")
    for i, name in enumerate(BAD_TAGS):
        evilreg.add_version("p", f"a{i}", name, {"data.csv": b"a,b\n"})  # ..latest names it
        for source in (f"p/a{i}", f"p/a{i}@{name}")[: 2 if i < 3 else 1]:  # named, or as ..latest
            dest = tmp_path / f"t{i}"
            line = _one_line_refusal(_clone(evilreg.url, source, dest, "symlink"))
            assert "Git tag" in line and "\x1b" not in line, line
            assert not dest.exists()


@pytest.mark.backends("folder")
def test_push_refuses_a_version_name_git_cannot_tag_before_publishing(registry: Registry, tmp_path: Path) -> None:
    seed(registry, tmp_path, {"a.txt": b"a\n"})
    work = tmp_path / "w"
    selenite("clone", "--url", registry.url, "proj/data@v1", work)
    (work / "b.txt").write_bytes(b"b\n")
    for name in BAD_TAGS:
        proc = selenite("push", "--token", registry.admin_token, "--version", name, cwd=work, check=False)
        line = _one_line_refusal(proc)
        assert "Git tag" in line or "not valid" in line, line
    listed = selenite("ls", "--url", registry.url, "proj/data").stdout.splitlines()
    assert [ln.split("\t")[0] for ln in listed] == ["v1"], "nothing was published"
    pushed = selenite("push", "--token", registry.admin_token, "--version", "release-2", cwd=work)
    assert "proj/data/release-2" in pushed.stdout
    assert "release-2" in git("tag", cwd=work).split()


# --- push publishes only what is in the tree or the cache (item 3, F10); deletions are counted (13) ----


@pytest.mark.backends("folder")
def test_push_refuses_a_committed_link_out_of_the_tree(registry: Registry, tmp_path: Path) -> None:
    seed(registry, tmp_path, {"a.txt": b"a\n", "sub/b.txt": b"b\n"})
    secret = tmp_path / "secret.env"
    secret.write_bytes(b"AWS_SECRET_ACCESS_KEY=victim-secret-123\n")
    att = tmp_path / "att"
    selenite("clone", "--url", registry.url, "proj/data@v1", att)
    os.symlink(secret, att / "README.txt")  # absolute
    os.symlink("../../secret.env", att / "sub" / "rel.txt")  # relative, climbing out
    os.symlink("../a.txt", att / "sub" / "alias.txt")  # inside the tree: fine
    git("add", "-A", cwd=att)
    git("commit", "-q", "--no-verify", "-m", "links", cwd=att)
    victim = tmp_path / "victim"
    git("clone", "-q", str(att), str(victim), cwd=tmp_path)
    selenite("get", cwd=victim)
    for args in ([], ["--dry-run"]):
        line = _one_line_refusal(selenite("push", "--token", registry.admin_token, *args, cwd=victim, check=False))
        assert "outside the working tree" in line and "--follow-external" in line, line
    listed = selenite("ls", "--url", registry.url, "proj/data").stdout.splitlines()
    assert [ln.split("\t")[0] for ln in listed] == ["v1"], "nothing was published"
    plan = selenite("push", "--dry-run", "--follow-external", cwd=victim).stdout
    assert f"README.txt -> {secret}" in plan and f"sub/rel.txt -> {secret}" in plan
    assert "external       2 files" in plan and "alias.txt ->" not in plan
    selenite("push", "--token", registry.admin_token, "--follow-external", cwd=victim)
    assert registry.get_raw("proj/data/v2/README.txt") == secret.read_bytes()


@pytest.mark.backends("folder")
def test_push_counts_and_lists_every_path_of_the_base_it_drops(registry: Registry, tmp_path: Path) -> None:
    seed(registry, tmp_path, {"a.txt": b"a\n", "keep.txt": b"k\n", "sub/n.bin": b"n\n", "gone.txt": b"g\n"})
    work = tmp_path / "w"
    selenite("clone", "--url", registry.url, "proj/data@v1", work)
    git("rm", "-q", "a.txt", "gone.txt", cwd=work)
    (work / "a.txt").mkdir()  # a file replaced by a folder of the same name
    (work / "a.txt" / "inner.txt").write_bytes(b"inner\n")
    git("rm", "-rq", "sub", cwd=work)
    (work / "sub").write_bytes(b"now a file\n")  # a folder replaced by a file
    git("add", "-A", cwd=work)
    git("commit", "-qm", "reshape", cwd=work)
    plan = selenite("push", "--dry-run", cwd=work).stdout
    assert "deleted        3 files" in plan, plan
    dropped = [ln.strip() for ln in plan.splitlines() if ln.strip().startswith("- ")]
    assert dropped == ["- a.txt", "- gone.txt", "- sub/n.bin"]
    out = selenite("push", "--token", registry.admin_token, cwd=work).stdout
    assert "3 deleted" in out, out


# --- what a registry names is shown escaped (F14) ------------------------------------------------------


def test_names_and_reasons_are_printed_escaped(evilreg: EvilRegistry, tmp_path: Path) -> None:
    evilreg.add_version("p", "a", "v1", {"innocent\x1b[2K\x1b[1A\rrewritten.csv": b"x\n", "lbt\u202etxt.exe": b"y\n",
                                         "tab\there.csv": b"z\n"})
    out = selenite("ls", "--url", evilreg.url, "p/a@v1").stdout
    assert "\x1b" not in out and "\r" not in out and "\u202e" not in out
    paths = [ln.split("\t")[0] for ln in out.splitlines()]
    assert paths == ["innocent\\x1b[2K\\x1b[1A\\x0drewritten.csv", "lbt\\u202etxt.exe", "tab\\x09here.csv"]
    evilreg.routes[("GET", "/file/")] = lambda req: Reply.of_json(
        {"status": "error", "reason": "gone\x1b[2K\nselenite: everything is fine"}, 403)
    proc = selenite("clone", "--url", evilreg.url, "p/a@v1", tmp_path / "t", check=False)
    line = _one_line_refusal(proc)  # the reason's newline did not start a line of its own
    assert "gone\\x1b[2K" in line and "everything is fine" in line and "\x1b" not in proc.stderr


def test_a_filesystem_refusal_while_making_the_tree_is_one_line(evilreg: EvilRegistry, tmp_path: Path) -> None:
    """A path selenite accepts can still be too long for this filesystem under a deep folder
    (PATH_MAX): the clone stops with one line and removes what it made."""
    deep = "x" * 200 + "/" + "y" * 200 + "/" + "z" * 200 + "/" + "w" * 200 + "/" + "v" * 200 + "/" + "u" * 200
    evilreg.add_version("p", "a", "v1", {"ok.txt": b"ok\n", deep + "/f.txt": b"deep\n"})
    parent = tmp_path
    # About 3400 bytes of folders above the tree, so that its own 1,200 bytes pass PATH_MAX with a
    # margin: at 3000, the first absolute path too long moved from one step to another with the
    # length of the test's temp folder, and since the clean filter writes no temp file for a small
    # file, a symlink tree fit.
    for i in range(16):
        parent = parent / (f"{i:02d}" * 100)
    parent.mkdir(parents=True)
    for mode in MODES:
        dest = parent / mode
        line = _one_line_refusal(_clone(evilreg.url, "p/a@v1", dest, mode))
        assert "could not make the working tree" in line, line
        assert not dest.exists()


@pytest.mark.parametrize("bad", [".git/hooks/post-checkout", "sub/.GIT./config", "../outside.txt"])
def test_a_shared_record_naming_git_or_outside_paths_is_refused(
    evilreg: EvilRegistry, tmp_path: Path, bad: str
) -> None:
    """Item 1 for records: a copy tree's committed ``.selenite/tree.json`` is someone else's too."""
    payload = b"#!/bin/sh\ntouch pwned\n"
    evilreg.add_version("p", "a", "v1", {"data.csv": b"a,b\n", "x.sh": payload})
    att = tmp_path / "attacker"
    selenite("clone", "--url", evilreg.url, "--link-mode", "copy", "p/a@v1", att)
    record = json.loads((att / ".selenite/tree.json").read_text())
    record["files"][bad] = record["files"]["x.sh"]
    (att / ".selenite/tree.json").write_text(json.dumps(record, indent=1))
    git("commit", "-q", "--no-verify", "-am", "share", cwd=att)
    victim = tmp_path / "victim"
    git("clone", "-q", str(att), str(victim), cwd=tmp_path)
    line = _one_line_refusal(selenite("get", cwd=victim, check=False))
    assert ".selenite/tree.json lists" in line, line
    assert not (victim / ".git" / "hooks" / "post-checkout").exists()
    assert not (tmp_path / "outside.txt").exists() and not (victim / "sub").exists()


def test_another_version_no_tree_could_hold_is_skipped_when_looking_for_bytes(evilreg: EvilRegistry,
                                                                            tmp_path: Path) -> None:
    """get and push look for bytes in the asset's other versions too: one holding a ``.git`` path
    is passed over there (it is refused only when cloned), not the end of the command."""
    from selenite import registry
    from selenite.cache import Cache
    from selenite.keys import Key
    from selenite.transfer import resolve_sources
    from selenite.tree.origin import Origin

    evilreg.add_version("p", "a", "v1", {"a.txt": b"alpha\n"})
    evilreg.add_version("p", "a", "v3", {"b.txt": b"beta\n"})
    evilreg.add_version("p", "a", "v9", {"b.txt": b"beta\n", ".git/config": b"[core]\n"})  # looked at first
    key = Key(md5(b"beta\n"), 5, ".txt")
    with registry.session_for(evilreg.url) as client:
        found = resolve_sources(client, Cache(tmp_path / "cache"), Origin(evilreg.url, "p", "a", "v1"), [key])
    assert found == {key: "p/a/v3/b.txt"}
    assert evilreg.requested("GET", "/file/p%2Fa%2Fv9%2F..manifest")
