"""`selenite checkout VERSION`: move the tree to another version of its asset.

HEAD is detached at the version's commit (``git checkout`` of its tag, as Git does for a tag): a
branch is never moved behind the user's back; ``git switch -c NAME`` keeps working there. The
commit is built first when the tree lacks it (``selenite fetch``); uncommitted edits that the move
would overwrite are refused before anything changes. Then the content the new version's changed
paths need is fetched (``--no-download``: links only) and the origin recorded.
"""

from __future__ import annotations

from selenite import gitrepo, output, registry
from selenite.config import Settings
from selenite.errors import FatalError
from selenite.gitrepo import history as githistory
from selenite.tree.layout import layout_of
from selenite.treesync import history_of, listing_at, old_state, refuse_collisions, resume, settle
from selenite.workspace import open_tree


def checkout(settings: Settings, version: str, *, download: bool = True, jobs: int = 8) -> int:
    root, o, cache = open_tree(settings)
    layout = layout_of(root)
    with registry.session_for(*settings.endpoint(o.url).pair(), jobs) as client:
        resume(root, cache, client, download=download, jobs=jobs)
        hist = history_of(root, client, cache, o, jobs)
        sha = hist.commits([version])[version]
        if gitrepo.head(root) == sha:
            output.info(f"already on {o.project}/{o.asset}@{version}")
            return 0
        refuse_collisions(root, cache, layout, "checkout", sha, listing_at(hist, version))
        before = old_state(root, cache)
        status, said = githistory.checkout_detached(root, sha)
        if status != 0:
            raise FatalError(f"git checkout failed: {said.splitlines()[0] if said else f'exit {status}'}")
        settle(root, cache, client, before, download=download, jobs=jobs)
    output.info(f"HEAD is now at {sha[:12]} {o.project}/{o.asset}@{version} (detached; "
                "`git switch -c NAME` to work on a branch)")
    return 0
