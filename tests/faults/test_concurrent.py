"""8 `selenite clone` processes of one version into one empty cache at once: all succeed, every
tree is fsck clean and right, every object in the cache re-hashes to its key."""

from __future__ import annotations

import os
from pathlib import Path

from tests.faults import faultlib
from tests.support.registry import Registry


def test_eight_concurrent_clones_one_cache(folder_registry: Registry, tmp_path: Path) -> None:
    expected = faultlib.seed_clone_source(folder_registry, tmp_path, n_small=40, big_mib=1)
    env = {**os.environ, "SELENITE_CACHE": str(tmp_path / "shared-cache")}
    problems = faultlib.concurrent_clones(
        folder_registry, tmp_path, f"{faultlib.CLONE_PROJECT}/data@v1", expected, 8, env
    )
    assert problems == []
    assert (
        len(list((tmp_path / "shared-cache" / "objects").glob("*/*/*/*"))) == len(set(expected.values())) + 1
    )  # .csv/.dat share bytes
