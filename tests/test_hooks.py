"""The pre-commit check and the hook installer, on real git repositories with real commits.

Trees are built by hand with the cache API (no server): one relative link per file through the
anchor `.git/selenite/objects`, exactly as docs/develop/internals.md lays them out.
"""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from selenite import hooks
from selenite.cache import Cache, registry_id
from selenite.commands import check as check_cmd
from selenite.commands import hooks as hooks_cmd
from selenite.config import Settings
from selenite.keys import Key, object_relpath, try_parse_key

ROOT = Path(__file__).resolve().parent.parent
URL = "http://127.0.0.1:1"  # never contacted: the check needs no network


def git(cwd: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True)
    if check and proc.returncode != 0:
        raise AssertionError(f"git {' '.join(args)} exited {proc.returncode}:\n{proc.stdout}\n{proc.stderr}")
    return proc


def commit(cwd: Path, msg: str = "change", *extra: str) -> subprocess.CompletedProcess[str]:
    """A real `git commit` (the installed hook runs); returns the process, whatever its exit code."""
    return git(cwd, "commit", "-q", "-m", msg, *extra, check=False)


def link_text(top: Path, rel: str, key: object) -> str:
    target = top / hooks.ANCHOR / object_relpath(key)  # type: ignore[arg-type]
    return os.path.relpath(target, (top / rel).parent)


def make_tree(tmp_path: Path, files: dict[str, bytes], *, install: bool = True, name: str = "tree") -> tuple[Path, Cache]:
    """A committed working tree of links into the cache of $SELENITE_CACHE, with its origin recorded."""
    cache = Cache(Path(os.environ["SELENITE_CACHE"]))
    top = tmp_path / name
    top.mkdir()
    git(top, "init", "-q", "-b", "main")
    (top / ".git" / "selenite").mkdir()
    (top / hooks.ANCHOR).symlink_to(cache.objects)
    src = tmp_path / "src"
    src.mkdir(exist_ok=True)
    manifest = {}
    for rel, data in files.items():
        (src / "f").write_bytes(data)
        key = cache.put_file(src / "f", filename=rel)
        link = top / rel
        link.parent.mkdir(parents=True, exist_ok=True)
        link.symlink_to(link_text(top, rel, key))
        manifest[rel] = {"size": key.size, "md5sum": key.md5}
    cache.save_manifest(registry_id(URL), "proj", "asset", "v1", manifest)
    for k, v in (("url", URL), ("project", "proj"), ("asset", "asset"), ("version", "v1")):
        git(top, "config", f"selenite.{k}", v)
    git(top, "add", "-A")
    git(top, "commit", "-q", "-m", "v1")
    if install:
        hooks.install(top)
    return top, cache


def write_through(link: Path, data: bytes) -> None:
    """What a careless tool (or root) does: make the object writable and write through the link."""
    obj = link.resolve()
    os.chmod(obj, 0o644)
    with open(link, "wb") as f:
        f.write(data)


def settings() -> Settings:
    return Settings(url=None, token=None, cache_dir=Path(os.environ["SELENITE_CACHE"]))


@pytest.fixture
def tree(tmp_path: Path) -> tuple[Path, Cache]:
    return make_tree(tmp_path, {"a.csv": b"x,y\n1,2\n", "data/b.txt": b"hello\n", "data/c.bin": b"\x00" * 100})


# --- the check ---------------------------------------------------------------------------------


def test_clean_tree_passes_and_commits(tree: tuple[Path, Cache]) -> None:
    top, _ = tree
    assert hooks.check_tree(top, settings().cache_dir) == []
    assert commit(top, "nothing", "--allow-empty").returncode == 0


def test_edit_through_link_is_invisible_to_git_but_refused(tree: tuple[Path, Cache]) -> None:
    top, cache = tree
    write_through(top / "data" / "b.txt", b"HELLO\n")  # same size: only the hash can tell
    assert git(top, "status", "--porcelain").stdout == ""  # Git sees nothing
    (top / "notes.txt").write_text("new file\n")
    git(top, "add", "notes.txt")
    proc = commit(top)
    assert proc.returncode == 1
    assert "data/b.txt" in proc.stderr and "no longer matches" in proc.stderr
    assert "selenite fsck --repair" in proc.stderr
    assert "a.csv" not in proc.stderr  # only the damaged path is named
    assert git(top, "rev-list", "--count", "HEAD").stdout.strip() == "1"


def test_touched_but_intact_object_passes_and_is_re_signed(tree: tuple[Path, Cache]) -> None:
    top, cache = tree
    obj = (top / "a.csv").resolve()
    os.utime(obj, ns=(1, 1))
    key = next(k for k in cache.signatures() if k.endswith(".csv"))
    assert cache.signatures()[key].mtime_ns != 1
    assert hooks.check_tree(top, settings().cache_dir) == []
    assert cache.signatures()[key].mtime_ns == 1  # re-hashed once, then trusted again


def test_allowed_changes_commit(tree: tuple[Path, Cache]) -> None:
    top, _ = tree
    # a link replaced by an edited real file (how users edit; `selenite unlock` does this)
    (top / "a.csv").unlink()
    (top / "a.csv").write_text("x,y\n3,4\n")
    (top / "new.txt").write_text("brand new\n")  # a new file
    git(top, "rm", "-q", "data/c.bin")  # a deleted file
    # a moved link, with its text adjusted to its new folder
    text = link_text(top, "moved/deeper/b.txt", try_parse_key(os.path.basename(os.readlink(top / "data/b.txt"))))
    (top / "data/b.txt").unlink()
    (top / "moved/deeper").mkdir(parents=True)
    (top / "moved/deeper/b.txt").symlink_to(text)
    (top / "rel.txt").symlink_to("new.txt")  # an ordinary in-tree link
    git(top, "add", "-A")
    proc = commit(top)
    assert proc.returncode == 0, proc.stderr


def test_commit_all_with_unstaged_edit_passes(tree: tuple[Path, Cache]) -> None:
    top, _ = tree
    (top / "a.csv").unlink()
    (top / "a.csv").write_text("edited\n")
    assert commit(top, "edit", "-a").returncode == 0


@pytest.mark.parametrize("target", ["/etc/hostname", "../../outside.txt", ".git/config", ".git/selenite/objects/zz/not-a-key"])
def test_link_retargeted_outside_the_cache_is_refused(tree: tuple[Path, Cache], target: str) -> None:
    top, _ = tree
    (top / "a.csv").unlink()
    (top / "a.csv").symlink_to(target)
    git(top, "add", "a.csv")
    proc = commit(top)
    assert proc.returncode == 1
    assert "a.csv:" in proc.stderr and target.split("/")[-1] in proc.stderr
    assert "git checkout HEAD -- PATH" in proc.stderr


def test_absolute_link_into_the_cache_is_refused(tree: tuple[Path, Cache]) -> None:
    top, _ = tree
    real = (top / "a.csv").resolve()
    (top / "new.csv").symlink_to(real)
    git(top, "add", "new.csv")
    proc = commit(top)
    assert proc.returncode == 1 and "new.csv: absolute link" in proc.stderr


def test_link_escaping_through_the_anchor_is_refused(tree: tuple[Path, Cache]) -> None:
    top, _ = tree
    (top / "esc").symlink_to(".git/selenite/objects/../../../../etc/passwd")
    git(top, "add", "esc")
    assert commit(top).returncode == 1


@pytest.mark.parametrize("how", ["unstaged", "staged", "commit-a", "newline"])
def test_destroyed_link_is_refused(tree: tuple[Path, Cache], how: str) -> None:
    top, _ = tree
    link = top / "data" / "b.txt"
    text = os.readlink(link)
    link.unlink()
    link.write_text(text + ("\n" if how == "newline" else ""))
    if how == "staged":
        git(top, "add", "data/b.txt")
    proc = commit(top, "x", "-a") if how in ("commit-a", "newline") else commit(top, "x", "--allow-empty")
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "data/b.txt:" in proc.stderr and "text of a link" in proc.stderr


def test_new_file_holding_a_cache_link_text_is_refused(tree: tuple[Path, Cache]) -> None:
    top, _ = tree
    text = os.readlink(top / "a.csv")
    (top / "copy.csv").write_text(text)  # e.g. an archive tool that stored the link as text
    git(top, "add", "copy.csv")
    proc = commit(top)
    assert proc.returncode == 1 and "copy.csv:" in proc.stderr


def test_small_real_file_that_is_not_link_text_passes(tree: tuple[Path, Cache]) -> None:
    top, _ = tree
    (top / "a.csv").unlink()
    (top / "a.csv").write_text("../x\n")  # short, but not the link's text
    assert commit(top, "x", "-a").returncode == 0


def test_dangling_links_pass_when_the_registry_holds_the_key(tree: tuple[Path, Cache]) -> None:
    top, cache = tree
    key = try_parse_key(os.path.basename(os.readlink(top / "data/b.txt")))
    assert key is not None
    cache.remove(key)  # like `selenite drop` or a lazy clone: the link dangles
    assert not (top / "data/b.txt").exists()
    assert hooks.check_tree(top, settings().cache_dir) == []


def test_dangling_link_to_an_unknown_key_is_refused(tree: tuple[Path, Cache]) -> None:
    top, _ = tree
    fake = Key("0" * 32, 5, ".txt")
    (top / "ghost.txt").symlink_to(link_text(top, "ghost.txt", fake))
    git(top, "add", "ghost.txt")
    proc = commit(top)
    assert proc.returncode == 1
    assert "ghost.txt:" in proc.stderr and "neither in the cache nor" in proc.stderr


def test_untracked_links_are_checked_too(tree: tuple[Path, Cache]) -> None:
    top, _ = tree
    shutil.copy(top / "a.csv", top / "unused.csv", follow_symlinks=False)  # an untracked link
    write_through(top / "unused.csv", b"broken")
    problems = hooks.check_tree(top, settings().cache_dir)
    assert {p.path for p in problems} == {"a.csv", "unused.csv"}
    assert {p.kind for p in problems} == {"corrupted"}


def test_check_command_exit_codes(tree: tuple[Path, Cache], capsys: pytest.CaptureFixture[str]) -> None:
    top, _ = tree
    assert check_cmd.check(settings(), cwd=top) == 0
    write_through(top / "a.csv", b"zzz")
    assert check_cmd.check(settings(), cwd=top) == 1
    err = capsys.readouterr().err
    assert "a.csv:" in err and "check failed" in err


def test_check_runs_from_a_subfolder_through_the_cli(tree: tuple[Path, Cache]) -> None:
    top, _ = tree
    run = [sys.executable, "-m", "selenite", "check"]
    assert subprocess.run(run, cwd=top / "data", capture_output=True).returncode == 0
    write_through(top / "data/c.bin", b"\x01" * 100)
    proc = subprocess.run(run, cwd=top / "data", capture_output=True, text=True)
    assert proc.returncode == 1 and "data/c.bin:" in proc.stderr and "Traceback" not in proc.stderr


def test_check_outside_a_repository_is_one_line(tmp_path: Path) -> None:
    proc = subprocess.run([sys.executable, "-m", "selenite", "check"], cwd=tmp_path, capture_output=True, text=True)
    assert proc.returncode == 1
    assert proc.stderr.strip().count("\n") == 0 and "not inside a git working tree" in proc.stderr


def test_first_commit_of_a_tree_is_checked(tmp_path: Path) -> None:
    top = tmp_path / "fresh"
    top.mkdir()
    git(top, "init", "-q")
    hooks.install(top)
    (top / "a.txt").write_text("a\n")
    git(top, "add", "a.txt")
    assert commit(top, "first").returncode == 0


# --- the large-file guard ---------------------------------------------------------------------


def test_large_file_guard_is_off_by_default_and_refuses_when_set(tree: tuple[Path, Cache]) -> None:
    top, _ = tree
    (top / "big.dat").write_bytes(os.urandom(3000))
    git(top, "add", "big.dat")
    assert hooks.large_file_limit(top) is None
    git(top, "config", "selenite.largefiles", "2k")
    proc = commit(top)
    assert proc.returncode == 1
    assert "big.dat:" in proc.stderr and "selenite.largefiles" in proc.stderr and "selenite push" in proc.stderr
    git(top, "config", "selenite.largefiles", "1M")
    assert commit(top).returncode == 0


def test_large_file_guard_on_the_first_commit_and_bad_values(tmp_path: Path) -> None:
    top = tmp_path / "r"
    top.mkdir()
    git(top, "init", "-q")
    hooks.install(top)
    (top / "big.dat").write_bytes(b"x" * 5000)
    git(top, "add", "big.dat")
    git(top, "config", "selenite.largefiles", "4k")
    assert commit(top).returncode == 1
    git(top, "config", "selenite.largefiles", "ten megs")
    proc = commit(top)
    assert proc.returncode == 1 and "selenite.largefiles" in proc.stderr and "Traceback" not in proc.stderr


# --- install / uninstall ----------------------------------------------------------------------


def test_shipped_hook_matches_the_project_hook() -> None:
    shipped = ROOT / "src" / "selenite" / "resources" / "pre-commit"
    assert shipped.read_bytes() == (ROOT / "hooks" / "pre-commit").read_bytes()
    assert hooks.hook_template() == shipped.read_text()
    assert hooks.MARKER in shipped.read_text()
    assert os.access(ROOT / "hooks" / "pre-commit", os.X_OK)


def test_pre_commit_hooks_yaml_declares_the_hook() -> None:
    (hook,) = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())
    assert hook["id"] == "selenite-check"
    assert hook["language"] == "python"
    assert hook["entry"] == "selenite hook pre-commit"
    assert hook["always_run"] is True and hook["pass_filenames"] is False
    assert hook["stages"] == ["pre-commit"]


def test_hook_manifest_passes_the_frameworks_validator() -> None:
    proc = subprocess.run([str(Path(sys.executable).parent / "pre-commit"), "validate-manifest", str(ROOT / ".pre-commit-hooks.yaml")],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def _repo(tmp_path: Path, name: str = "repo") -> Path:
    top = tmp_path / name
    top.mkdir()
    git(top, "init", "-q")
    return top


def test_install_writes_the_python_and_is_idempotent(tmp_path: Path) -> None:
    top = _repo(tmp_path)
    path = hooks.install(top)
    assert path == top / ".git" / "hooks" / "pre-commit"
    assert os.access(path, os.X_OK) and hooks.is_ours(path)
    assert f"INSTALL_PYTHON={sys.executable}" in path.read_text()
    hooks.install(top)
    assert sorted(os.listdir(path.parent)) == ["pre-commit"]  # no legacy made of our own hook


def test_foreign_hook_is_chained_and_restored(tmp_path: Path) -> None:
    top = _repo(tmp_path)
    foreign = top / ".git" / "hooks" / "pre-commit"
    foreign.parent.mkdir(parents=True, exist_ok=True)
    script = "#!/bin/sh\necho ran >> \"$(git rev-parse --git-dir)/legacy-ran\"\n[ ! -e STOP ]\n"
    foreign.write_text(script)
    foreign.chmod(0o755)
    assert hooks_cmd.install(top) == 0
    assert hooks_cmd.install(top) == 0  # reinstalling keeps the chained hook, makes no second legacy
    legacy = foreign.with_name("pre-commit.legacy")
    assert legacy.read_text() == script and hooks.is_ours(foreign)
    (top / "a").write_text("a")
    git(top, "add", "a")
    assert commit(top).returncode == 0
    assert (top / ".git" / "legacy-ran").read_text() == "ran\n"
    (top / "STOP").write_text("")  # the old hook now fails: so does the commit
    git(top, "add", "STOP")
    assert commit(top).returncode == 1
    assert hooks_cmd.uninstall(top) == 0
    assert foreign.read_text() == script and not legacy.exists()
    assert hooks_cmd.uninstall(top) == 0  # nothing of ours left: a no-op
    assert foreign.read_text() == script


def test_install_refuses_to_clobber_two_foreign_hooks(tmp_path: Path) -> None:
    top = _repo(tmp_path)
    d = top / ".git" / "hooks"
    d.mkdir(exist_ok=True)
    (d / "pre-commit").write_text("#!/bin/sh\nexit 0\n")
    (d / "pre-commit.legacy").write_text("#!/bin/sh\nexit 0\n")
    with pytest.raises(hooks.HookInstallRefused, match="already exists"):
        hooks.install(top)
    hooks.install_into(top)  # what clone calls: a warning, not a failure
    assert (d / "pre-commit").read_text() == "#!/bin/sh\nexit 0\n"


def test_install_refuses_over_the_pre_commit_framework(tmp_path: Path) -> None:
    top = _repo(tmp_path)
    d = top / ".git" / "hooks"
    d.mkdir(exist_ok=True)
    (d / "pre-commit").write_text("#!/usr/bin/env bash\n# File generated by pre-commit: https://pre-commit.com\n"
                                  "# ID: 138fd403232d2ddd5efb44317e38bf03\n")
    with pytest.raises(hooks.HookInstallRefused, match="pre-commit-config"):
        hooks.install(top)


def test_worktrees_share_the_hook(tree: tuple[Path, Cache], tmp_path: Path) -> None:
    top, _ = tree
    wt = tmp_path / "wt"
    git(top, "worktree", "add", "-q", str(wt), "-b", "other")
    hooks.install(wt)  # from the worktree: still the common hooks folder
    assert sorted(os.listdir(top / ".git" / "hooks")) == ["pre-commit"]
    (wt / "note").write_text("x")
    git(wt, "add", "note")
    (wt / "fake").symlink_to("/etc/hostname")
    git(wt, "add", "fake")
    proc = commit(wt)
    assert proc.returncode == 1 and "fake:" in proc.stderr  # the hook ran in the worktree


def test_local_core_hooks_path_is_respected(tmp_path: Path) -> None:
    top = _repo(tmp_path)
    git(top, "config", "core.hooksPath", "myhooks")
    path = hooks.install(top)
    assert path == top / "myhooks" / "pre-commit"
    (top / "bad").symlink_to("/etc/hostname")
    git(top, "add", "bad")
    assert commit(top).returncode == 1  # git ran it from there
    hooks.uninstall(top)
    assert not path.exists()


def test_global_core_hooks_path_is_refused(tmp_path: Path) -> None:
    top = _repo(tmp_path)
    shared = tmp_path / "shared-hooks"
    git(top, "config", "--global", "core.hooksPath", str(shared))
    proc = subprocess.run([sys.executable, "-m", "selenite", "hooks", "install"], cwd=top, capture_output=True, text=True)
    assert proc.returncode == 1
    assert "core.hooksPath" in proc.stderr and "Traceback" not in proc.stderr
    assert not shared.exists()


def test_hook_falls_back_to_selenite_on_path_and_fails_loudly_without_it(tmp_path: Path) -> None:
    top = _repo(tmp_path)
    hooks.install(top, python="/nonexistent/python")
    (top / "bad").symlink_to("/etc/hostname")
    git(top, "add", "bad")
    venv_bin = str(Path(sys.executable).parent)
    env = {**os.environ, "PATH": f"{venv_bin}:{os.environ['PATH']}"}
    proc = subprocess.run(["git", "commit", "-q", "-m", "x"], cwd=top, capture_output=True, text=True, env=env)
    assert proc.returncode == 1 and "bad:" in proc.stderr  # ran `selenite` from PATH
    git_dir = Path(shutil.which("git") or "/usr/bin/git").parent
    env = {**os.environ, "PATH": f"{git_dir}:/bin"}
    if shutil.which("selenite", path=env["PATH"]):
        pytest.skip("a selenite is installed system-wide")
    proc = subprocess.run(["git", "commit", "-q", "-m", "x"], cwd=top, capture_output=True, text=True, env=env)
    assert proc.returncode == 1 and "selenite: not found" in proc.stderr


def test_hook_installed_under_another_tools_legacy_name_does_not_run_itself(tmp_path: Path) -> None:
    top = _repo(tmp_path)
    path = hooks.install(top)
    os.replace(path, path.with_name("pre-commit.legacy"))  # what another chaining tool would do
    wrapper = path
    wrapper.write_text('#!/bin/sh\n"$(dirname "$0")/pre-commit.legacy" "$@"\n')
    wrapper.chmod(0o755)
    (top / "a").write_text("a")
    git(top, "add", "a")
    proc = subprocess.run(["git", "commit", "-q", "-m", "x"], cwd=top, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr


def test_install_and_uninstall_through_the_cli(tmp_path: Path) -> None:
    top = _repo(tmp_path)
    run = [sys.executable, "-m", "selenite", "hooks"]
    proc = subprocess.run([*run, "install"], cwd=top, capture_output=True, text=True)
    assert proc.returncode == 0 and "installed" in proc.stderr
    assert hooks.is_ours(top / ".git" / "hooks" / "pre-commit")
    proc = subprocess.run([*run, "uninstall"], cwd=top, capture_output=True, text=True)
    assert proc.returncode == 0 and not (top / ".git" / "hooks" / "pre-commit").exists()


def test_cache_stat_of_objects_is_read_only_after_a_clean_check(tree: tuple[Path, Cache]) -> None:
    top, _ = tree
    obj = (top / "a.csv").resolve()
    hooks.check_tree(top, settings().cache_dir)
    assert stat.S_IMODE(os.stat(obj).st_mode) == 0o444  # the check changes nothing it reads


# --- the check stamp (the fast path for unchanged trees) -----------------------------------------


@pytest.mark.parametrize("forked", [False, True], ids=["one-process", "forked"])
def test_stamp_lets_an_unchanged_tree_skip_the_database_but_not_a_write(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, forked: bool
) -> None:
    if forked:  # big trees split the stats with a forked process; make this small tree do so too
        monkeypatch.setattr(hooks, "_PARALLEL_MIN", 2)
        monkeypatch.setattr(hooks, "_spare_core", lambda: True)
    forks: list[int] = []
    real_fork = os.fork

    def counting_fork() -> int:
        pid = real_fork()
        if pid:
            forks.append(pid)
        return pid

    monkeypatch.setattr(os, "fork", counting_fork)
    top, cache = make_tree(tmp_path, {f"d/f{i}.txt": b"row %d\n" % i for i in range(20)})
    time.sleep(2.1)  # objects older than the stamp's safety margin, as in real use
    assert hooks.check_tree(top, settings().cache_dir) == []
    stamp = top / ".git" / "selenite" / "check-stamp"
    assert stamp.is_file()

    def no_slow_pass(cache_root: Path, slow: dict[str, object]) -> dict[str, str]:
        raise AssertionError(f"slow pass ran for {sorted(slow)}")

    with monkeypatch.context() as m:
        m.setattr(hooks, "_settle", no_slow_pass)
        assert hooks.check_tree(top, settings().cache_dir) == []  # every link vouched for by the stamp

    write_through(top / "d/f3.txt", b"ROW 3\n")  # same size, same inode: only ctime moved
    assert [(p.path, p.kind) for p in hooks.check_tree(top, settings().cache_dir)] == [("d/f3.txt", "corrupted")]

    # An object swapped for another file of the same size (a new inode) is caught too.
    obj = (top / "d/f5.txt").resolve()
    os.chmod(obj.parent, 0o755)
    (obj.parent / "swap").write_bytes(b"ROW 5\n")
    os.replace(obj.parent / "swap", obj)
    problems = hooks.check_tree(top, settings().cache_dir)
    assert {p.path for p in problems} == {"d/f3.txt", "d/f5.txt"}
    assert bool(forks) == forked


def test_damaged_or_foreign_stamp_is_ignored(tree: tuple[Path, Cache]) -> None:
    top, _ = tree
    stamp = top / ".git" / "selenite" / "check-stamp"
    stamp.write_bytes(b"\x00garbage")
    write_through(top / "a.csv", b"x,y\n9,9\n")
    assert [p.path for p in hooks.check_tree(top, settings().cache_dir)] == ["a.csv"]
    assert stamp.read_bytes() == b"\x00garbage"  # a failed check stamps nothing


def test_index_link_listing_parses_sha1_and_sha256() -> None:
    sha1, sha256 = "a" * 40, "b" * 64
    listing = f"120000 {sha1} 0\tx/l.csv\x00100644 {'c' * 40} 0\tplain\x00120000 {sha1} 0\tsp ace\t.csv\x00"
    assert hooks._index_links(listing) == [(sha1, "x/l.csv"), (sha1, "sp ace\t.csv")]
    assert hooks._index_links(f"120000 {sha256} 0\tl\x00") == [(sha256, "l")]
    assert hooks._index_links("") == []


def test_an_untracked_link_does_not_rewrite_the_stamp_each_time(tree: tuple[Path, Cache]) -> None:
    top, _ = tree
    shutil.copy(top / "a.csv", top / "extra.csv", follow_symlinks=False)  # untracked: always re-checked
    time.sleep(2.1)  # objects older than the stamp's safety margin (else they are re-checked: correct, slower)
    assert hooks.check_tree(top, settings().cache_dir) == []
    stamp = top / ".git" / "selenite" / "check-stamp"
    first = stamp.stat().st_mtime_ns, stamp.stat().st_ino
    assert hooks.check_tree(top, settings().cache_dir) == []
    assert (stamp.stat().st_mtime_ns, stamp.stat().st_ino) == first


def test_a_file_name_that_looks_like_an_index_record_fools_nothing(tree: tuple[Path, Cache]) -> None:
    top, _ = tree
    odd = f"120000 {'a' * 40} 0\tb.txt"  # a legal file name, as `git ls-files -s` would print a link
    (top / odd).write_text("plain\n")
    git(top, "add", "-A")
    assert commit(top).returncode == 0
    assert hooks.check_tree(top, settings().cache_dir) == []
    write_through(top / "data/b.txt", b"HELLO\n")
    assert [p.path for p in hooks.check_tree(top, settings().cache_dir)] == ["data/b.txt"]
