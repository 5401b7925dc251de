"""`selenite fetch`: the registry's newer versions of the tree's asset as Git commits and tags.

Each version becomes its commit by the commit rule (docs/user/history.md), tagged with its name;
``refs/remotes/registry/latest`` follows the registry's latest. Nothing in the working tree moves
and no file content is downloaded unless ``--download`` (then the content of the version fetched
last, or named, that the cache lacks; only what the tree's selection takes).
"""

from __future__ import annotations

from selenite import output, registry
from selenite.config import Settings
from selenite.transfer import fetch_objects
from selenite.tree.selection import selected
from selenite.treesync import fetch_versions, history_of
from selenite.workspace import open_tree


def fetch(settings: Settings, *, version: str | None, download: bool, jobs: int = 8) -> int:
    root, o, cache = open_tree(settings)
    with registry.session_for(*settings.endpoint(o.url).pair(), jobs) as client:
        hist = history_of(root, client, cache, o, jobs)
        shas, latest = fetch_versions(hist, o.version, version)
        target = version or latest
        if download and target is not None:
            selection = selected(root)
            specs = {p: s for p, s in hist.specs(target).items() if selection(p)}
            n = fetch_objects(client, cache, {s.key: s.source for s in specs.values()}, jobs)
            output.info(f"{n} download(s) for {target}")
    new = [v for v in shas if v != o.version]
    if not new:
        output.info(f"up to date: the tree is on {o.version}, the registry's latest is {latest or 'none'}")
    for v in new:
        mark = "  (latest)" if v == latest else ""
        output.write(f"{shas[v][:12]}  {o.project}/{o.asset}@{v}{mark}")
    return 0
