"""`selenite drop [PATHS]`: free local content the registry still holds (the links stay).

Never drops an object the registry has no copy of, nor one that another registered working tree
links to (the cache is shared: dropping it there would take content from under that tree).
"""

from __future__ import annotations

import os
from pathlib import Path

from selenite import output, registry
from selenite.config import Settings
from selenite.keys import Key
from selenite.transfer import resolve_sources
from selenite.tree.entry import PathStatus, select
from selenite.tree.layout import layout_of
from selenite.workspace import open_tree


def drop(settings: Settings, paths: list[Path]) -> int:
    root, o, cache = open_tree(settings)
    entries = select(layout_of(root).scan(cache, include_deleted=False, check_objects=False), root, paths, settings.cwd)
    keys = {e.key for e in entries if e.key is not None and e.status != PathStatus.DESTROYED and cache.has(e.key)}
    if not keys:
        output.info("nothing to drop")
        return 0
    with registry.session_for(*settings.endpoint(o.url).pair()) as client:
        held = resolve_sources(client, cache, o, keys, strict=False)
    elsewhere: set[Key] = set()
    for other in cache.worktrees():
        if other != root and (other / ".git").exists():
            elsewhere |= layout_of(other).pinned_keys() & keys
    dropped = 0
    inodes: dict[tuple[int, int], list[int]] = {}  # (dev, ino) -> [links before, links removed, size]
    for key in sorted(keys):
        if key not in held or key in elsewhere:
            continue
        try:
            st = os.lstat(cache.object_path(key))
        except FileNotFoundError:
            continue
        if cache.remove(key):
            dropped += 1
            seen = inodes.setdefault((st.st_dev, st.st_ino), [st.st_nlink, 0, st.st_size])
            seen[1] += 1
    # Space comes back only for content whose last link went: an object hard-linked from a tree
    # (hardlink mode) or under two extensions counts once, and only when no link is left.
    freed = sum(size for nlink, removed, size in inodes.values() if removed >= nlink)
    linked = sum(removed for nlink, removed, _ in inodes.values() if removed < nlink)
    if linked:
        output.info(f"{linked} of them still have other hard links (e.g. a hardlink-mode tree's files): "
                    "their space stays in use")
    kept_unheld = len(keys - set(held))
    output.info(f"dropped {dropped} object(s), {output.human_bytes(freed)} freed (`selenite get` brings them back)")
    if kept_unheld:
        output.info(f"kept {kept_unheld} object(s) the registry holds no copy of")
    if elsewhere:
        output.info(f"kept {len(elsewhere)} object(s) that other working trees link to")
    return 0
