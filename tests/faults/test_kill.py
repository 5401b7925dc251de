"""kill -9 at seeded random moments during `selenite clone` and `selenite push` (a handful of trials;
bench/faults.py runs >= 30 of each). After each kill: no corrupt object in the cache, no partial
version in the registry that is not being uploaded, re-running the command succeeds (after the
lock TTL at worst), fsck is clean and the tree / the new version hold the right files."""

from __future__ import annotations

import os
from pathlib import Path

from tests.conftest import Registry
from tests.faults import faultlib
from tests.faults.conftest import LOCK_TTL

CLONE_SEEDS = [11, 12, 13]
PUSH_SEEDS = [21, 22]


def test_kill_clone_at_random_moments(folder_registry: Registry, tmp_path: Path) -> None:
    registry = folder_registry
    expected = faultlib.seed_clone_source(registry, tmp_path)
    env = dict(os.environ)
    full = faultlib.timed(["clone", f"{faultlib.CLONE_PROJECT}/data@v1", tmp_path / "calibrate", "--url", registry.url],
                          tmp_path, {**env, "SELENITE_CACHE": str(tmp_path / "cal-cache")})
    trials = [faultlib.kill_clone_trial(registry, tmp_path, s, expected, full, env) for s in CLONE_SEEDS]
    assert sum(t.killed for t in trials) >= 2, f"too few clones were still running when killed ({full:.2f} s)"
    assert [(t.seed, t.delay, t.problems) for t in trials if t.problems] == []


def test_kill_push_at_random_moments(ttl_registry: Registry, tmp_path: Path) -> None:
    reg = ttl_registry
    env = dict(os.environ)
    tree, asset, _ = faultlib.prepare_push(reg, tmp_path, 100, env)
    full = faultlib.timed(["push", "--token", reg.admin_token, "-j", "2"], tree, env)
    trials = [faultlib.kill_push_trial(reg, tmp_path, s, full, env, LOCK_TTL) for s in PUSH_SEEDS]
    assert sum(t.killed for t in trials) >= 1, f"too few pushes were still running when killed ({full:.2f} s)"
    assert [(t.seed, t.delay, t.problems) for t in trials if t.problems] == []
