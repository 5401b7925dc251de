"""`selenite pull [--version V]`: fetch, then bring the registry's latest version into the tree (the
work is ``selenite.api.pull``'s, shared with ``Tree.pull``); exits 1 when the merge stopped on
conflicts."""

from __future__ import annotations

from selenite import output
from selenite.api.pull import pull as run_pull
from selenite.config import Settings


def pull(settings: Settings, *, version: str | None, download: bool = True, jobs: int = 8) -> int:
    done = run_pull(settings, version=version, download=download, jobs=jobs)
    if done.up_to_date:
        output.info(f"already up to date with {done.spec}")
    elif done.conflicted:
        output.error(done.said)
        shown = f"; Git's conflict markers are in {', '.join(done.marked)}" if done.marked else ""
        output.error(f"selenite: pull of {done.spec} stopped with conflicts in {len(done.conflicted)} path(s){shown}: "
                     "fix them, `git add` them and `git commit`")
        return 1
    else:
        output.info(f"{'fast-forwarded' if done.fast_forward else 'merged'} {done.spec} ({done.sha[:12]})")
    return 0
