"""`selenite get [PATHS]`: fetch the content that links of this tree point to and the cache lacks."""

from __future__ import annotations

from pathlib import Path

from selenite import output, registry
from selenite.config import Settings
from selenite.errors import FatalError
from selenite.transfer import fetch_objects, resolve_sources
from selenite.tree.entry import PathStatus, select
from selenite.tree.layout import layout_of
from selenite.workspace import open_tree


def get(settings: Settings, paths: list[Path], *, jobs: int = 8) -> int:
    root, o, cache = open_tree(settings)
    layout = layout_of(root)
    entries = select(layout.scan(cache, include_deleted=False), root, paths, settings.cwd)
    missing = {e.key: e.path for e in entries if e.status == PathStatus.CONTENT_MISSING and e.key is not None}
    corrupted = [e.path for e in entries if e.status == PathStatus.OBJECT_CORRUPTED]
    destroyed = [e.path for e in entries if e.status == PathStatus.DESTROYED]
    # Where the files will be written: refuse a path through a symlink before fetching.
    layout.check_placeable([e.path for e in entries if e.status == PathStatus.CONTENT_MISSING])
    if not missing and not destroyed:
        output.info("nothing to get: every link's content is here")
    elif missing:
        n = 0
        to_fetch = [k for k in missing if not cache.ensure_local(k)]  # a pointer file may name cached content
        if to_fetch:
            with registry.session_for(*settings.endpoint(o.url).pair(), jobs) as client:
                sources = resolve_sources(client, cache, o, to_fetch)
                n = fetch_objects(client, cache, sources, jobs)
        size = sum(k.size for k in missing)
        output.info(f"got {len(missing)} file(s) ({n} download(s), {output.human_bytes(size)})")
    layout.materialize(cache, entries, whole_tree=not paths)
    _refuse_destroyed(destroyed)
    if corrupted:
        output.error(f"{len(corrupted)} object(s) do not match their keys (e.g. {corrupted[0]}): "
                     "run `selenite fsck --repair`")
        return 1
    return 0


def _refuse_destroyed(destroyed: list[str]) -> None:
    """Files holding only a link's text are not content anyone can use: say so rather than "all is
    here" (typically every file of a `git clone` made with core.symlinks=false)."""
    if destroyed:
        raise FatalError(
            f"{len(destroyed)} file(s) hold only a link's text, not content (e.g. {destroyed[0]}): the tree was "
            "checked out without symlinks (core.symlinks=false, or a filesystem without them?). Where symlinks "
            "work, `selenite fsck --repair` makes them links again; where they do not, clone with "
            "`selenite clone --link-mode copy` (or hardlink) instead")
