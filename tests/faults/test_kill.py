"""kill -9 at seeded random moments during `selenite clone` and `selenite push` (a handful of trials;
bench/faults.py runs >= 30 of each). After each kill: no corrupt object in the cache, no partial
version in the registry that is not being uploaded, re-running the command succeeds (after the
lock TTL at worst), fsck is clean and the tree / the new version hold the right files."""

from __future__ import annotations

import os
from pathlib import Path

from tests.faults import faultlib
from tests.faults.faultlib import LOCK_TTL
from tests.support.cli import selenite
from tests.support.files import tree_files
from tests.support.git import git
from tests.support.registry import Registry

CLONE_SEEDS = [11, 12, 13]
PUSH_SEEDS = [21]


def test_kill_clone_at_random_moments(folder_registry: Registry, tmp_path: Path) -> None:
    registry = folder_registry
    expected = faultlib.seed_clone_source(registry, tmp_path, n_small=60, big_mib=2)
    env = dict(os.environ)
    full = faultlib.timed(["clone", f"{faultlib.CLONE_PROJECT}/data@v1", tmp_path / "calibrate", "--url", registry.url],
                          tmp_path, {**env, "SELENITE_CACHE": str(tmp_path / "cal-cache")})
    trials = [faultlib.kill_clone_trial(registry, tmp_path, s, expected, full, env) for s in CLONE_SEEDS]
    assert sum(t.killed for t in trials) >= 2, f"too few clones were still running when killed ({full:.2f} s)"
    assert [(t.seed, t.delay, t.problems) for t in trials if t.problems] == []


def test_kill_push_at_random_moments(ttl_registry: Registry, tmp_path: Path) -> None:
    reg = ttl_registry
    env = dict(os.environ)
    tree, _, _ = faultlib.prepare_push(reg, tmp_path, 100, env)
    full = faultlib.timed(["push", "--token", reg.admin_token, "-j", "2"], tree, env)
    trials = [faultlib.kill_push_trial(reg, tmp_path, s, full, env, LOCK_TTL) for s in PUSH_SEEDS]
    assert all(t.killed for t in trials), f"a push finished before it was killed ({full:.2f} s for a whole push)"
    assert [(t.seed, t.delay, t.problems) for t in trials if t.problems] == []


def test_kill_push_after_the_registry_accepted_it(ttl_registry: Registry, tmp_path: Path) -> None:
    """Killed between upload/complete and the local commit: the next push finishes that push
    locally instead of publishing the same content again as v3."""
    reg = ttl_registry
    t = faultlib.kill_push_trial(reg, tmp_path, 31, 0, dict(os.environ), LOCK_TTL,
                                 when=lambda tree, asset: faultlib.version_finished(reg, asset))
    assert t.killed and t.problems == [], t
    assert "interrupted" in t.note or "nothing to push" in t.note, t.note


def test_kill_push_before_it_remembered_its_session(ttl_registry: Registry, tmp_path: Path) -> None:
    """The lock is taken but no session file says so (a kill right after upload/start answered):
    the project stays locked until the lock TTL, then the re-run push takes over and succeeds."""
    reg = ttl_registry
    t = faultlib.kill_push_trial(reg, tmp_path, 32, 0, dict(os.environ), LOCK_TTL,
                                 when=lambda tree, asset: faultlib.project_locked(reg),
                                 after_kill=faultlib.forget_session)
    assert t.killed and t.problems == [], t



def test_rerun_clone_over_an_existing_folder(folder_registry: Registry, tmp_path: Path) -> None:
    """Only a DIR holding nothing but a killed clone's leftovers is redone: a regular file, or a git
    repository without the clone's marker, is refused and left exactly as it was. The same clone
    into its own finished DIR (a clone killed on its way out, or run twice) changes nothing, exit 0."""
    expected = faultlib.seed_clone_source(folder_registry, tmp_path, n_small=3, big_mib=0)
    src = f"{faultlib.CLONE_PROJECT}/data@v1"
    with_file = tmp_path / "with-file"
    (with_file / ".git" / "selenite").mkdir(parents=True)
    (with_file / ".git" / "selenite" / "clone-incomplete").write_bytes(b"")
    (with_file / "mine.txt").write_text("user data")
    users_repo = tmp_path / "users-repo"
    users_repo.mkdir()
    git("init", "-q", cwd=users_repo)
    for dest in (with_file, users_repo):
        before = sorted(p.relative_to(dest).as_posix() for p in dest.rglob("*"))
        r = selenite("clone", src, dest, "--url", folder_registry.url, check=False)
        assert r.returncode == 1 and "not empty" in r.stderr, r.stderr
        assert sorted(p.relative_to(dest).as_posix() for p in dest.rglob("*")) == before

    dest = tmp_path / "twice"
    selenite("clone", src, dest, "--url", folder_registry.url)
    head = git("rev-parse", "HEAD", cwd=dest)
    r = selenite("clone", f"{faultlib.CLONE_PROJECT}/data", dest, "--url", folder_registry.url + "/")
    assert "already a clone" in r.stderr
    assert git("rev-parse", "HEAD", cwd=dest) == head and tree_files(dest) == expected
    r = selenite("clone", f"{faultlib.CLONE_PROJECT}/other@v1", dest, "--url", folder_registry.url, check=False)
    assert r.returncode == 1 and "not empty" in r.stderr
