"""`selenite get [PATHS|GLOBS] [--all]`: fetch missing content (the work is ``selenite.api.get``'s,
shared with ``Tree.get``); exits 1 when some cache object no longer matches its key."""

from __future__ import annotations

from pathlib import Path

from selenite import output
from selenite.api.get import get as run_get
from selenite.config import Settings


def get(settings: Settings, paths: list[Path], *, jobs: int = 8, everything: bool = False) -> int:
    got = run_get(settings, paths, jobs=jobs, everything=everything)
    if got.corrupted:
        output.error(f"{len(got.corrupted)} object(s) do not match their keys (e.g. {got.corrupted[0]}): "
                     "run `selenite fsck --repair`")
        return 1
    return 0
