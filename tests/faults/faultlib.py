"""Machinery shared by the quick fault checks (tests/faults) and the long runs (bench/faults.py).

Everything here drives the real CLI in subprocesses against a real ``selenite serve`` process and
inspects the results from the outside (the cache and the registry's folder), so a check can only
pass if the product really is consistent after the fault:

- ``bad_objects``: re-hash every object of a cache against its key name;
- ``registry_problems``: partial versions not being uploaded, and locks (folder backend layout);
- ``kill_clone_trial`` / ``kill_push_trial``: ``kill -9`` at a seeded random moment (or the moment
  a condition holds), then check, re-run the command, check again;
- ``concurrent_clones``: N clones of one version into one cache at once.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import gypsum_client as gc

from tests.support.cli import selenite
from tests.support.files import tree_files
from tests.support.registry import Registry
from tests.support.seed import create_project, upload_version

# Seconds after which a test registry started with `--lock-ttl` drops an abandoned upload lock.
LOCK_TTL = 3.0

# --- checks -------------------------------------------------------------------------------------


def bad_objects(cache: Path) -> list[str]:
    """Every object under ``cache/objects`` whose bytes do not match its key (md5 and size), or
    that is misplaced; re-hashed from disk, whatever the stat signatures say."""
    bad = []
    objects = cache / "objects"
    if not objects.is_dir():
        return bad
    for path in objects.glob("*/*/*/*"):
        name = path.name
        if not name.startswith("MD5E-s") or path.parent.name != name:
            bad.append(f"misplaced {path}")
            continue
        size_part, _, rest = name[len("MD5E-s"):].partition("--")
        md5 = rest[:32]
        data_md5, n = hashlib.md5(usedforsecurity=False), 0
        with open(path, "rb") as f:
            while block := f.read(1 << 20):
                data_md5.update(block)
                n += len(block)
        if str(n) != size_part or data_md5.hexdigest() != md5 or path.parent.parent.name != md5[2:4]:
            bad.append(f"corrupt {name}")
    return bad


def lock_of(registry: Registry, project: str) -> dict[str, object] | None:
    p = registry.root / "bucket" / project / "..LOCK"
    try:
        return json.loads(p.read_bytes())
    except FileNotFoundError:
        return None


def registry_problems(registry: Registry, allow_locks: bool = False) -> list[str]:
    """Partial versions (a version folder without a finished summary) that no live lock is
    uploading, and (unless ``allow_locks``) any project lock at all. Folder backend layout."""
    out: list[str] = []
    bucket = registry.root / "bucket"
    for project in sorted(p for p in bucket.iterdir() if p.is_dir() and not p.name.startswith("..")):
        lock = lock_of(registry, project.name)
        if lock is not None and not allow_locks:
            out.append(f"project {project.name} is locked ({lock.get('asset')}/{lock.get('version')})")
        for asset in sorted(a for a in project.iterdir() if a.is_dir()):
            for version in sorted(v for v in asset.iterdir() if v.is_dir()):
                try:
                    summary = json.loads((version / "..summary").read_bytes())
                except (FileNotFoundError, ValueError):
                    summary = None
                if isinstance(summary, dict) and "upload_finish" in summary:
                    continue
                locked = (lock.get("asset"), lock.get("version")) if lock is not None else None
                being_uploaded = locked == (asset.name, version.name)
                if not being_uploaded:
                    out.append(f"partial version {project.name}/{asset.name}/{version.name} (summary {summary})")
    return out


def version_files(registry: Registry, project: str, asset: str, version: str) -> dict[str, bytes]:
    """What a finished version holds, read through the protocol (links resolved by the registry's
    manifest: each link's bytes are read from where it points)."""
    manifest = gc.fetch_manifest(project, asset, version, url=registry.url, cache_dir=None)
    out = {}
    for path, entry in manifest.items():
        target = entry.get("link", {})
        tgt = target.get("ancestor", target) if target else None
        key = (
            f"{tgt['project']}/{tgt['asset']}/{tgt['version']}/{tgt['path']}"
            if tgt
            else f"{project}/{asset}/{version}/{path}"
        )
        data = (registry.root / "bucket" / key).read_bytes()
        assert hashlib.md5(data).hexdigest() == entry["md5sum"] and len(data) == entry["size"], (path, entry)
        out[path] = data
    return out


# --- processes ---------------------------------------------------------------------------------


def spawn(*args: str | os.PathLike[str], cwd: Path, env: Mapping[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-m", "selenite", *map(str, args)], cwd=cwd, env=dict(env),
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def run_then_kill(args: list[str | os.PathLike[str]], cwd: Path, env: Mapping[str, str], delay: float) -> bool:
    """Start the CLI, SIGKILL it after ``delay`` seconds. True if it was still running (killed)."""
    p = spawn(*args, cwd=cwd, env=env)
    try:
        p.wait(delay)
        killed = False
    except subprocess.TimeoutExpired:
        p.send_signal(signal.SIGKILL)
        p.wait()
        killed = True
    assert p.stderr is not None
    p.stderr.close()
    return killed


def run_then_kill_when(args: list[str | os.PathLike[str]], cwd: Path, env: Mapping[str, str],
                       when: Callable[[], bool], timeout: float = 120) -> bool:
    """Start the CLI, SIGKILL it as soon as ``when()`` holds (polled every half millisecond)."""
    p = spawn(*args, cwd=cwd, env=env)
    deadline = time.monotonic() + timeout
    killed = False
    while p.poll() is None and time.monotonic() < deadline:
        if when():
            p.send_signal(signal.SIGKILL)
            killed = True
            break
        time.sleep(0.0005)
    p.wait()
    assert p.stderr is not None
    p.stderr.close()
    return killed and p.returncode == -signal.SIGKILL


def timed(args: list[str | os.PathLike[str]], cwd: Path, env: Mapping[str, str]) -> float:
    t = time.monotonic()
    selenite(*args, cwd=cwd, env=dict(env))
    return time.monotonic() - t


@dataclass
class Trial:
    """One fault trial: what happened and what was wrong afterwards (empty = good)."""

    kind: str
    seed: int
    delay: float
    killed: bool
    problems: list[str] = field(default_factory=list)
    note: str = ""


def one_line_error(proc: subprocess.CompletedProcess[str]) -> str | None:
    """None when a failed command explained itself in one line without a traceback."""
    lines = proc.stderr.strip().splitlines()
    if proc.returncode == 0:
        return "exited 0"
    if "Traceback" in proc.stderr or proc.returncode not in (1,):
        return f"exit {proc.returncode}: {proc.stderr.strip()[-300:]}"
    if len(lines) != 1:
        return f"{len(lines)} lines on stderr: {proc.stderr.strip()[-300:]}"
    return None


# --- kill -9 during clone ------------------------------------------------------------------------

CLONE_PROJECT = "kclone"


def seed_clone_source(registry: Registry, tmp: Path, n_small: int = 120, big_mib: int = 3) -> dict[str, bytes]:
    """A version worth killing a clone in: many small files (links, git work) and a few big ones
    (long downloads). Returns its files."""
    rnd = random.Random(7)
    files = {f"d{i % 6}/f{i:03d}.txt": f"small {i}\n".encode() * (1 + i % 40) for i in range(n_small)}
    for i in range(3):
        files[f"big/{i}.bin"] = rnd.randbytes(big_mib << 20)
    files["same/a.csv"] = files["same/b.dat"] = b"identical content\n"
    create_project(registry, CLONE_PROJECT)
    upload_version(registry, tmp, "v1", files, project=CLONE_PROJECT, asset="data")
    return files


def kill_clone_trial(registry: Registry, work: Path, seed: int, expected: dict[str, bytes], max_delay: float,
                     base_env: Mapping[str, str]) -> Trial:
    """A fresh cache, ``selenite clone`` killed after a random delay, then: every cache object
    re-hashes to its key; re-running the same clone succeeds; fsck is clean; the tree is right."""
    rnd = random.Random(seed)
    delay = rnd.uniform(0, max_delay)
    cache = work / f"cache-{seed}"
    env = {**base_env, "SELENITE_CACHE": str(cache)}
    dest = work / f"clone-{seed}"
    args: list[str | os.PathLike[str]] = ["clone", f"{CLONE_PROJECT}/data@v1", dest, "--url", registry.url, "-j", "4"]
    killed = run_then_kill(args, work, env, delay)
    t = Trial("clone", seed, delay, killed)
    t.problems += bad_objects(cache)
    if killed:  # (a clone that finished first is checked as it is: a re-run would rightly refuse DIR)
        again = selenite(*args, cwd=work, env=env, check=False)
        if again.returncode != 0:
            t.problems.append(f"re-running clone failed: {again.stderr.strip()[-400:]}")
            return t
    fsck = selenite("fsck", cwd=dest, env=env, check=False)
    if fsck.returncode != 0:
        t.problems.append(f"fsck after re-run: {fsck.stdout.strip()[-300:]} {fsck.stderr.strip()[-300:]}")
    if tree_files(dest) != expected:
        t.problems.append("the re-run clone does not hold the version's files")
    t.problems += bad_objects(cache)
    return t


# --- kill -9 during push -------------------------------------------------------------------------

PUSH_PROJECT = "kpush"


def prepare_push(registry: Registry, work: Path, seed: int, env: Mapping[str, str], new_mib: int = 2,
                 n_new: int = 4) -> tuple[Path, str, dict[str, bytes]]:
    """Asset ``a<seed>`` with a v1; a clone of it with edits (new big files, an edited file, a
    deleted one). Returns (tree, asset, the tree's expected files)."""
    rnd = random.Random(seed)
    asset = f"a{seed}"
    if not (registry.root / "bucket" / PUSH_PROJECT).exists():
        create_project(registry, PUSH_PROJECT)
    base = {f"keep{i}.txt": f"kept {i} {seed}\n".encode() for i in range(20)}
    base["edit.txt"], base["gone.txt"] = b"before\n", b"deleted later\n"
    upload_version(registry, work, "v1", base, project=PUSH_PROJECT, asset=asset)
    tree = work / f"push-{seed}"
    selenite("clone", f"{PUSH_PROJECT}/{asset}@v1", tree, "--url", registry.url, cwd=work, env=dict(env))
    selenite("unlock", "edit.txt", cwd=tree, env=dict(env))
    (tree / "edit.txt").write_bytes(b"after " + rnd.randbytes(64).hex().encode() + b"\n")
    os.unlink(tree / "gone.txt")
    for i in range(n_new):
        (tree / f"new{i}.bin").write_bytes(rnd.randbytes(new_mib << 20))
    return tree, asset, tree_files(tree)


def push_until_done(
    registry: Registry, tree: Path, env: Mapping[str, str], lock_ttl: float
) -> subprocess.CompletedProcess[str]:
    """Re-run push; when the project is still locked by the killed push (it died before it could
    remember its session), wait out the lock's TTL once and try again."""
    res = selenite("push", "--token", registry.admin_token, "-j", "2", cwd=tree, env=dict(env), check=False)
    if res.returncode != 0 and "locked" in res.stderr:
        time.sleep(lock_ttl + 0.5)
        res = selenite("push", "--token", registry.admin_token, "-j", "2", cwd=tree, env=dict(env), check=False)
    return res


def kill_push_trial(registry: Registry, work: Path, seed: int, max_delay: float, base_env: Mapping[str, str],
                    lock_ttl: float, when: Callable[[Path, str], bool] | None = None,
                    after_kill: Callable[[Path], None] | None = None) -> Trial:
    """``selenite push`` killed after a random delay (or as soon as ``when(tree, asset)`` holds),
    then: no partial version that is not being uploaded; re-running push succeeds (after the lock
    TTL at worst); exactly one new version, holding the tree's files; fsck and status clean; no
    lock; cache objects good."""
    rnd = random.Random(seed * 7919 + 1)
    delay = rnd.uniform(0, max_delay)
    env = dict(base_env)
    tree, asset, expected = prepare_push(registry, work, seed, env)
    args: list[str | os.PathLike[str]] = ["push", "--token", registry.admin_token, "-j", "2"]
    if when is None:
        killed = run_then_kill(args, tree, env, delay)
    else:
        killed, delay = run_then_kill_when(args, tree, env, lambda: when(tree, asset)), -1.0
    if after_kill is not None:
        after_kill(tree)
    t = Trial("push", seed, delay, killed)
    t.problems += registry_problems(registry, allow_locks=True)
    res = push_until_done(registry, tree, env, lock_ttl)
    if res.returncode != 0:
        t.problems.append(f"re-running push failed: {res.stderr.strip()[-400:]}")
        return t
    t.note = (res.stdout + res.stderr).strip().splitlines()[-1][:160] if (res.stdout + res.stderr).strip() else ""
    t.problems += registry_problems(registry)
    versions = gc.list_versions(PUSH_PROJECT, asset, url=registry.url)
    if sorted(versions) != ["v1", "v2"]:
        t.problems.append(f"expected versions v1, v2; the registry has {sorted(versions)}")
    latest = gc.fetch_latest(PUSH_PROJECT, asset, url=registry.url)
    if latest is None or version_files(registry, PUSH_PROJECT, asset, latest) != expected:
        t.problems.append(f"the latest version ({latest}) does not hold the tree's files")
    if tree_files(tree) != expected:
        t.problems.append("the working tree's content changed")
    fsck = selenite("fsck", cwd=tree, env=env, check=False)
    if fsck.returncode != 0:
        t.problems.append(f"fsck: {fsck.stdout.strip()[-300:]}")
    status = selenite("status", cwd=tree, env=env, check=False)
    if status.stdout.strip():
        t.problems.append(f"status not clean after the re-run: {status.stdout.strip()[:300]}")
    t.problems += bad_objects(Path(env["SELENITE_CACHE"]))
    return t


def version_finished(registry: Registry, asset: str, version: str = "v2") -> bool:
    """The registry accepted the push's version (its summary carries ``upload_finish``)."""
    try:
        return (
            b"upload_finish" in (registry.root / "bucket" / PUSH_PROJECT / asset / version / "..summary").read_bytes()
        )
    except FileNotFoundError:
        return False


def project_locked(registry: Registry) -> bool:
    return (registry.root / "bucket" / PUSH_PROJECT / "..LOCK").exists()


def forget_session(tree: Path) -> None:
    """Stand for a kill in the moment between upload/start's answer and the session file's write."""
    (tree / ".git" / "selenite" / "push-session.json").unlink(missing_ok=True)


# --- concurrent clones ---------------------------------------------------------------------------


def concurrent_clones(registry: Registry, work: Path, source: str, expected: dict[str, bytes], n: int,
                      env: Mapping[str, str], tag: str = "") -> list[str]:
    """``n`` clones of one version into one (empty) cache at once: all succeed, every tree fsck
    clean and right, every object re-hashes to its key."""
    problems: list[str] = []
    procs = [spawn("clone", source, work / f"cc{tag}-{i}", "--url", registry.url, "-j", "4", cwd=work, env=env)
             for i in range(n)]
    for i, p in enumerate(procs):
        _, err = p.communicate(timeout=300)
        if p.returncode != 0:
            problems.append(f"clone {i} exited {p.returncode}: {err.decode(errors='replace').strip()[-300:]}")
    dests = [work / f"cc{tag}-{i}" for i in range(n) if (work / f"cc{tag}-{i}").exists()]
    fscks = [subprocess.Popen([sys.executable, "-m", "selenite", "fsck"], cwd=d, env=dict(env),
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT) for d in dests]
    for dest, f in zip(dests, fscks, strict=True):
        out, _ = f.communicate(timeout=300)
        if f.returncode != 0:
            problems.append(f"fsck of {dest.name}: {out.decode(errors='replace').strip()[-300:]}")
        if tree_files(dest) != expected:
            problems.append(f"{dest.name} does not hold the version's files")
    problems += bad_objects(Path(env["SELENITE_CACHE"]))
    return problems
