"""Pulling (``Tree.pull``, `selenite pull`): fetch, then bring the registry's latest version (or
``version``) into the tree. ``pull`` returns what happened (``Pulled``); the command prints it.

As ``git pull``: a fast-forward when HEAD is an ancestor of the version's commit, else a real Git
merge, committed when it is clean; conflicts are reported as Git reports them (a conflicted text
file in a symlink tree gets Git's markers too, ``selenite.conflicts``) and the command exits 1 with
nothing lost. Uncommitted edits the merge would overwrite are refused before anything changes.
Then the tree is made consistent (``treesync.settle``): only the changed paths' content the cache
lacks is downloaded, unchanged paths are not touched.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from selenite import gitrepo, registry
from selenite.config import Settings
from selenite.conflicts import mark_conflicts
from selenite.errors import FatalError
from selenite.gitrepo import history as githistory
from selenite.tree.layout import layout_of
from selenite.tree.origin import Origin
from selenite.treesync import fetch_versions, history_of, listing_at, old_state, refuse_collisions, resume, settle
from selenite.workspace import open_tree


@dataclass(frozen=True)
class Pulled:
    """What a pull did: ``spec`` (``PROJECT/ASSET@VERSION``) is now in the tree at commit ``sha``, by a
    fast-forward or a merge (``fast_forward``), or was already (``up_to_date``). A merge that stopped
    lists its ``conflicted`` paths (``marked``: those given Git's conflict markers; ``said``: git's
    own words): fix them, ``git add`` and ``git commit``."""

    spec: str
    sha: str
    up_to_date: bool = False
    fast_forward: bool = False
    conflicted: list[str] = field(default_factory=list)
    marked: list[str] = field(default_factory=list)
    said: str = ""


def pull(settings: Settings, *, version: str | None, download: bool = True, jobs: int = 8) -> Pulled:
    """Pull into the tree around ``settings.cwd`` (see the module docstring)."""
    root, o, cache = open_tree(settings)
    layout = layout_of(root)
    with registry.session_for(*settings.endpoint(o.url).pair(), jobs) as client:
        resume(root, cache, client, download=download, jobs=jobs)
        hist = history_of(root, client, cache, o, jobs)
        shas, latest = fetch_versions(hist, o.version, version)
        target = version or latest
        if target is None:
            raise FatalError(f"{o.project}/{o.asset} has no finished, non-probational version to pull "
                             "(name one with --version)")
        sha, spec = shas[target], f"{o.project}/{o.asset}@{target}"
        head = gitrepo.head(root)
        if head is not None and githistory.is_ancestor(root, sha, head):
            return Pulled(spec, sha, up_to_date=True)
        refuse_collisions(root, cache, layout, "pull", sha, listing_at(hist, target))
        before = old_state(root, cache)
        fast_forward = head is None or githistory.is_ancestor(root, head, sha)
        if head is not None and not fast_forward and githistory.merge_base(root, head, sha) is None:
            status, said = _adopt_history(root, head, sha)
        else:
            status, said = githistory.merge(root, sha, f"Merge {spec}", ff_only=fast_forward)
        conflicted = githistory.unmerged(root) if status != 0 else {}
        if status != 0 and not conflicted:
            raise FatalError(f"git merge failed: {said.splitlines()[-1] if said else f'exit {status}'}")
        marked = mark_conflicts(root, cache, client, Origin(o.url, o.project, o.asset, target), spec, jobs) \
            if conflicted else []
        settle(root, cache, client, before, download=download, jobs=jobs, new_rev=sha if conflicted else None)
    return Pulled(spec, sha, fast_forward=fast_forward, conflicted=sorted(conflicted), marked=list(marked), said=said)


def _adopt_history(root: Path, head: str, sha: str) -> tuple[int, str]:
    """A tree cloned by a selenite older than the commit rule shares no history with the version
    commits: with no commit of its own since its version's, its branch moves to the new history
    (uncommitted edits elsewhere are kept, as `git reset --keep` does); otherwise it is refused."""
    last = gitrepo.last_version_commit(root)
    if last is None or last[0] != head:
        raise FatalError("this tree's history was made by an older selenite and holds commits of its own: "
                         "`selenite push` them first (or clone again); nothing was changed")
    return githistory.reset_keep(root, sha)
