"""`selenite pull`: fetch, then bring the registry's latest version (or ``--version``) into the tree.

As ``git pull``: a fast-forward when HEAD is an ancestor of the version's commit, else a real Git
merge, committed when it is clean; conflicts are reported as Git reports them (a conflicted text
file in a symlink tree gets Git's markers too, ``selenite.conflicts``) and the command exits 1 with
nothing lost. Uncommitted edits the merge would overwrite are refused before anything changes.
Then the tree is made consistent (``treesync.settle``): only the changed paths' content the cache
lacks is downloaded, unchanged paths are not touched.
"""

from __future__ import annotations

from selenite import gitrepo, output, registry
from selenite.config import Settings
from selenite.conflicts import mark_conflicts
from selenite.errors import FatalError
from selenite.gitrepo import history as githistory
from selenite.tree.layout import layout_of
from selenite.tree.origin import Origin
from selenite.treesync import fetch_versions, history_of, listing_at, old_state, refuse_collisions, resume, settle
from selenite.workspace import open_tree


def pull(settings: Settings, *, version: str | None, download: bool = True, jobs: int = 8) -> int:
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
            output.info(f"already up to date with {spec}")
            return 0
        refuse_collisions(root, cache, layout, "pull", sha, listing_at(hist, target))
        before = old_state(root, cache)
        fast_forward = head is None or githistory.is_ancestor(root, head, sha)
        status, said = githistory.merge(root, sha, f"Merge {spec}", ff_only=fast_forward)
        conflicted = githistory.unmerged(root) if status != 0 else {}
        if status != 0 and not conflicted:
            raise FatalError(f"git merge failed: {said.splitlines()[-1] if said else f'exit {status}'}")
        marked = mark_conflicts(root, cache, client, Origin(o.url, o.project, o.asset, target), spec, jobs) \
            if conflicted else []
        settle(root, cache, client, before, download=download, jobs=jobs, new_rev=sha if conflicted else None)
    if conflicted:
        output.error(said)
        shown = f"; Git's conflict markers are in {', '.join(marked)}" if marked else ""
        output.error(f"selenite: pull of {spec} stopped with conflicts in {len(conflicted)} path(s){shown}: "
                     "fix them, `git add` them and `git commit`")
        return 1
    output.info(f"{'fast-forwarded' if fast_forward else 'merged'} {spec} ({sha[:12]})")
    return 0
