"""`selenite get [PATHS]`: fetch the content that links of this tree point to and the cache lacks."""

from __future__ import annotations

from pathlib import Path

from selenite import gitfiles, gitfilter, linkmodes, output, registry, worktree
from selenite.config import Settings
from selenite.errors import FatalError
from selenite.transfer import fetch_objects, resolve_sources
from selenite.workspace import open_tree


def get(settings: Settings, paths: list[Path], *, jobs: int = 8) -> int:
    root, o, cache = open_tree(settings)
    entries = worktree.select(worktree.scan(root, cache, include_deleted=False), root, paths, settings.cwd)
    missing = {e.key: e.path for e in entries if e.status == worktree.CONTENT_MISSING and e.key is not None}
    corrupted = [e.path for e in entries if e.status == worktree.OBJECT_CORRUPTED]
    destroyed = [e.path for e in entries if e.status == worktree.DESTROYED]
    mode = linkmodes.mode_of(root)
    if mode != linkmodes.SYMLINK:  # the files will be written: refuse a path through a symlink before fetching
        linkmodes.check_placeable(root, [e.path for e in entries if e.status == worktree.CONTENT_MISSING])
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
    if mode == linkmodes.SYMLINK:  # pointer files (Git checked them out without the filter) get their bytes
        gitfilter.fill_pointers(root, cache, [e.path for e in entries
                                              if e.status == worktree.CONTENT_MISSING and e.target is None])
        # A .gitignore (...) that an older selenite made a link: Git cannot read it, so a copy
        linked = {e.path: e.key for e in entries if e.target is not None and e.key is not None}
        if gitfiles.place_copies(root, cache, {p: k for p, k in linked.items() if cache.has(k)}):
            output.info("the files Git reads itself (.gitignore, ...) are regular files again: commit them")
    else:  # hardlink/copy: the content becomes the tree's files
        try:
            placed, absent = linkmodes.materialize(root, cache, mode, entries, whole_tree=not paths)
        except OSError as e:  # a name this filesystem refuses, a full disk: a refusal, not a crash
            raise FatalError(f"could not place the files: {e.strerror or e}{f' ({e.filename})' if e.filename else ''}; "
                             "the files placed so far stay, `selenite get` again finishes") from None
        if absent:
            raise FatalError(f"could not place {len(absent)} file(s) (e.g. {absent[0]}): their objects are not in the cache")
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
