"""Fetching content (``Tree.get``, `selenite get [PATHS|GLOBS] [--all]`): the content that links of this
tree point to and the cache lacks.

Without arguments, a pattern clone fetches its recorded selection (``tree.selection``) and says how
much it left out; ``--all`` fetches everything. Globs are matched against the tree's paths (what
the scan lists, links without content included), never expanded on disk.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from selenite import output, registry
from selenite.config import Settings
from selenite.errors import FatalError
from selenite.transfer import fetch_objects, resolve_sources
from selenite.tree.entry import Entry, PathStatus, select
from selenite.tree.layout import layout_of
from selenite.tree.selection import Selection, compile_pattern, is_glob, selected
from selenite.workspace import open_tree


@dataclass(frozen=True)
class Got:
    """What a get did: ``files`` now present (``downloads`` of them fetched, ``size`` bytes in all);
    ``left_out`` files outside a pattern clone's selection still without content; ``corrupted``
    paths whose cache object no longer matches its key (``selenite fsck --repair`` mends them)."""

    files: int
    downloads: int
    size: int
    left_out: int
    corrupted: list[str]


def get(settings: Settings, paths: list[Path], *, jobs: int = 8, everything: bool = False) -> Got:
    """Fetch the content of ``paths`` (files, folders or globs, relative to ``settings.cwd``; none:
    the tree's selection, or everything with ``everything``) and place it in the tree. Notes go to
    stderr; files that hold only a link's text are refused (``FatalError``) after the rest is placed."""
    if everything and paths:
        raise FatalError("--all fetches the whole tree: give it no paths")
    root, o, cache = open_tree(settings)
    layout = layout_of(root)
    entries = _chosen(layout.scan(cache, include_deleted=False), root, paths, settings.cwd)
    left_out = 0
    selection = Selection() if paths or everything else selected(root)  # arguments name what to get
    if not selection.everything:
        left_out = sum(1 for e in entries if e.status == PathStatus.CONTENT_MISSING and not selection(e.path))
        entries = [e for e in entries if selection(e.path)]
    missing = {e.key: e.path for e in entries if e.status == PathStatus.CONTENT_MISSING and e.key is not None}
    corrupted = [e.path for e in entries if e.status == PathStatus.OBJECT_CORRUPTED]
    destroyed = [e.path for e in entries if e.status == PathStatus.DESTROYED]
    # Where the files will be written: refuse a path through a symlink before fetching.
    layout.check_placeable([e.path for e in entries if e.status == PathStatus.CONTENT_MISSING])
    n = 0
    if not missing and not destroyed:
        output.info("nothing to get: every " + ("selected " if left_out else "") + "link's content is here")
    elif missing:
        to_fetch = [k for k in missing if not cache.ensure_local(k)]  # a pointer file may name cached content
        if to_fetch:
            with registry.session_for(*settings.endpoint(o.url).pair(), jobs) as client:
                sources = resolve_sources(client, cache, o, to_fetch)
                n = fetch_objects(client, cache, sources, jobs)
        size = sum(k.size for k in missing)
        output.info(f"got {len(missing)} file(s) ({n} download(s), {output.human_bytes(size)})")
    if left_out:
        output.info(f"{left_out} file(s) outside this tree's selection ({selection.describe()}) have no content "
                    "here: `selenite get GLOB` or `selenite get --all` fetches them")
    layout.materialize(cache, entries, whole_tree=not paths)
    _refuse_destroyed(destroyed)
    return Got(len(missing), n, sum(k.size for k in missing), left_out, corrupted)


def _chosen(entries: list[Entry], root: Path, paths: Sequence[Path], cwd: Path) -> list[Entry]:
    """The entries the arguments name: plain paths as files or folders (``select``), globs matched
    against the paths below the current folder. A glob matching nothing is refused, as a typo."""
    globs = [p.as_posix() for p in paths if is_glob(p.as_posix())]
    if not globs:
        return select(entries, root, paths, cwd)
    plain = [p for p in paths if not is_glob(p.as_posix())]
    picked = {e.path for e in select(entries, root, plain, cwd)} if plain else set()
    try:
        here = Path(os.path.abspath(cwd)).relative_to(root).as_posix()
    except ValueError:  # the tree reached through another path (a symlinked folder): from its top
        here = "."
    below = "" if here == "." else here + "/"
    for g in globs:
        pattern = compile_pattern(g, "pattern")
        hits = {e.path for e in entries if e.path.startswith(below) and pattern.fullmatch(e.path[len(below):])}
        if not hits:
            raise FatalError(f"{g}: no path of the working tree matches it" + (f" (below {here})" if below else ""))
        picked |= hits
    return [e for e in entries if e.path in picked]


def _refuse_destroyed(destroyed: list[str]) -> None:
    """Files holding only a link's text are not content anyone can use: say so rather than "all is
    here" (typically every file of a `git clone` made with core.symlinks=false)."""
    if destroyed:
        raise FatalError(
            f"{len(destroyed)} file(s) hold only a link's text, not content (e.g. {destroyed[0]}): the tree was "
            "checked out without symlinks (core.symlinks=false, or a filesystem without them?). Where symlinks "
            "work, `selenite fsck --repair` makes them links again; where they do not, clone with "
            "`selenite clone --link-mode copy` (or hardlink) instead")
