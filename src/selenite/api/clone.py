"""Cloning a version (``selenite.clone``, `selenite clone PROJECT/ASSET[@VERSION] [DIR]`): a Git
working tree of links into the cache.

Order matters for "nothing left behind": everything that can be refused (the source, the version,
the manifest's paths, a non-empty DIR) is checked before DIR is touched; then DIR is made, links
are committed (metadata only, fast) and content is downloaded. Any failure or Ctrl-C removes the DIR
this command created. A ``kill -9`` leaves a lazy clone that ``selenite get`` finishes.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import sqlite3
from collections.abc import Sequence
from pathlib import Path

from selenite import gitfilter, gitrepo, lookup, names, output, registry
from selenite.cache import OK, Cache, registry_id
from selenite.config import Settings
from selenite.errors import FatalError
from selenite.gitrepo import history as githistory
from selenite.history import LATEST_REF, History
from selenite.hook.install import install_into
from selenite.keys import Key
from selenite.manifests import FileSpec, parse_manifest
from selenite.transfer import fetch_objects
from selenite.tree import modes
from selenite.tree.anchor import make_anchor
from selenite.tree.layout import Layout, check_listing_for, layout_for
from selenite.tree.origin import Origin, record_origin
from selenite.tree.selection import Selection, record, selected


def parse_source(source: str) -> tuple[str, str, str | None]:
    """``PROJECT/ASSET[@VERSION]`` (also ``PROJECT/ASSET/VERSION``) -> names, checked."""
    spec, _, version = source.partition("@")
    parts = spec.strip("/").split("/")
    if len(parts) == 3 and not version:
        parts, version = parts[:2], parts[2]
    if len(parts) != 2 or not all(parts) or (("@" in source) and not version):
        raise FatalError(f"{source!r}: expected PROJECT/ASSET or PROJECT/ASSET@VERSION")
    for what, name in (("project", parts[0]), ("asset", parts[1]), ("version", version or "x")):
        if names.name_problem(what, name) is not None:
            raise FatalError(f"{source!r}: {what} name {name!r} is not valid")
    return parts[0], parts[1], version or None


# ``.git/selenite/clone-incomplete``: written before anything else in DIR, removed once the clone
# is done, so a DIR left by a killed clone can be told apart from a user's folder and redone.
MARKER = "clone-incomplete"


def _marker(root: Path) -> Path:
    return root / ".git" / "selenite" / MARKER


def _interrupted_clone(dest: Path) -> bool:
    """DIR holds nothing but what a killed clone left: its marker (or, if it died before writing
    it, a ``.git`` of empty folders), links and folders, and at most the clone's own commit."""
    for dirpath, dirnames, filenames in os.walk(dest):
        top = Path(dirpath) == dest
        if top:
            dirnames[:] = [d for d in dirnames if d != ".git"]
        for name in filenames:
            if top and name == ".git":
                continue  # judged below, with the .git folder
            if not os.path.islink(os.path.join(dirpath, name)):
                return False  # a regular file: maybe the user's; never removed
    git = dest / ".git"
    if not git.is_dir() or git.is_symlink():
        return False
    if _marker(dest).is_file():
        return not gitrepo.has_more_than_one_commit(dest)
    return not any(files for _, _, files in os.walk(git))


def _already_cloned(dest: Path, url: str, project: str, asset: str, version: str | None) -> bool:
    """DIR is a finished clone of this very source (same registry, names and, when given, version)
    with no commit beyond the clone's: running the same clone again is then a no-op, so a clone
    killed on its way out (or simply run twice) is fine."""
    if not (dest / ".git").is_dir() or _marker(dest).exists() or gitrepo.head(dest) is None:
        return False
    recorded = [gitrepo.config_get(dest, f"selenite.{k}") for k in ("url", "project", "asset", "version")]
    wanted = [url.rstrip("/"), project, asset, version if version is not None else recorded[3]]
    return recorded == wanted and not gitrepo.has_more_than_one_commit(dest)


def _check_dest(dest: Path, resume: bool = False) -> bool:
    """True when DIR must be created; refuses anything that holds user files. A DIR left by an
    interrupted clone is accepted (and, with ``resume``, emptied so the clone starts over; the
    content it had fetched is in the cache already)."""
    if os.path.lexists(dest):
        if not dest.is_dir() or dest.is_symlink():
            raise FatalError(f"{dest} exists and is not a folder")
        if any(dest.iterdir()):
            if not _interrupted_clone(dest):
                raise FatalError(
                    f"{dest} exists and is not empty (nothing was changed; if an earlier clone there was "
                    "interrupted, run `selenite get` inside it)"
                )
            if resume:
                output.info(f"{dest} holds an interrupted clone: starting it again")
                _empty_but_marker(dest.absolute())
        return False
    return True


def _empty_but_marker(dest: Path) -> None:
    """Remove what an interrupted clone left, the marker last (so a kill meanwhile leaves a DIR
    that is still recognised as an interrupted clone)."""
    keep = {dest / ".git", dest / ".git" / "selenite", _marker(dest)}
    for level in (dest, dest / ".git", dest / ".git" / "selenite"):
        if level.is_dir() and not level.is_symlink():
            for child in list(level.iterdir()):
                if child in keep:
                    continue
                if child.is_dir() and not child.is_symlink():
                    _remove_partial(child, created=True)
                else:
                    child.unlink()


def _remove_partial(dest: Path, created: bool) -> None:
    def onerror(func, path, exc):  # type: ignore[no-untyped-def]
        with contextlib.suppress(OSError):
            os.chmod(os.path.dirname(path), 0o755)
            func(path)

    if created:
        shutil.rmtree(dest, onerror=onerror)
    else:
        for child in list(dest.iterdir()):
            if child.is_dir() and not child.is_symlink():
                shutil.rmtree(child, onerror=onerror)
            else:
                child.unlink()


def clone(
    settings: Settings, source: str, directory: Path | None, *, download: bool = True, jobs: int = 8,
    link_mode: str = "symlink", include: Sequence[str] = (), exclude: Sequence[str] = (),
) -> Path:
    """Clone ``source`` into ``directory`` (default: the asset's name); returns the tree's root.
    Notes (what was cloned, a tree already there) go to stderr through ``output``."""
    modes.check_requested(link_mode)
    project, asset, version = parse_source(source)
    selection = Selection(tuple(include), tuple(exclude))  # a pattern that can match nothing: refused here
    named = version
    endpoint = settings.endpoint()
    dest = Path(directory) if directory is not None else Path(asset)
    if not _already_cloned(dest, endpoint.url, project, asset, version):
        _check_dest(dest)
    cache = Cache(settings.cache_dir)
    with registry.session_for(*endpoint.pair(), jobs) as client:
        version, listing, specs = lookup.resolve_version(client, cache, project, asset, version)
        o = Origin(client.url, project, asset, version)
        if _already_cloned(dest, client.url, project, asset, version):
            output.info(f"{dest} is already a clone of {project}/{asset}@{version} (`selenite get` there fetches "
                        "any content it lacks)")
            recorded = selected(dest)
            if recorded != selection:  # this run's patterns are not taken silently
                output.info(f"its selection stays {recorded.describe() or 'everything'} (docs/user/patterns.md "
                            "says how to change it)")
            return dest.absolute()
        check_listing_for(link_mode, listing, f"{project}/{asset}/{version}")  # refused before DIR is touched
        created = _check_dest(dest, resume=True)  # again: it may have changed while we talked to the registry
        if created:
            dest.mkdir(parents=True)
        root = dest.absolute()
        try:
            _marker(root).parent.mkdir(parents=True, exist_ok=True)
            _marker(root).write_bytes(b"")
            layout = layout_for(root, modes.choose(root, cache, link_mode))
            first = layout.needed_first(listing)  # fetched even with --no-download
            if first:
                download_objects(client, cache, o, first, specs, jobs)
            _make_tree(root, cache, client, o, listing, layout, selection, jobs, is_latest=named is None)
            wanted = {p: k for p, k in listing.items() if selection(p)}
            if not wanted and not selection.everything:
                output.info(f"no path of {project}/{asset}@{version} matches {selection.describe()}: the tree "
                            "holds every path, none with content (`selenite get GLOB` fetches some later)")
            if download:
                download_objects(client, cache, o, wanted, specs, jobs)
                layout.populate(cache, listing, wanted)
        except BaseException as exc:
            cache.forget_worktree(root)
            _remove_partial(root, created)
            if isinstance(exc, (OSError, sqlite3.Error)):  # a name too long here, a full disk: a refusal, not a crash
                raise _refusal(exc, dest) from None
            raise
    _install_hooks(root)
    _marker(root).unlink()
    lazy = "" if download else ", content not fetched"
    if download and not selection.everything:
        lazy = f", content of the {len(wanted)} selected ({output.human_bytes(sum(k.size for k in wanted.values()))})"
    _say_cloned(o, dest, listing, layout, lazy)
    return root


def _say_cloned(o: Origin, dest: Path, listing: dict[str, Key], layout: Layout, lazy: str) -> None:
    what = f"{len(listing)} file(s), {output.human_bytes(sum(k.size for k in listing.values()))}"
    as_what = f", as {layout.files_as}" if layout.files_as else ""
    output.info(f"cloned {o.project}/{o.asset}@{o.version} into {dest} ({what}{as_what}{lazy})")


def _refusal(exc: OSError | sqlite3.Error, dest: Path) -> FatalError:
    what = getattr(exc, "strerror", None) or exc
    name = getattr(exc, "filename2", None) or getattr(exc, "filename", None)  # a link's own path, not its text
    where = f" ({name})" if name else ""
    return FatalError(f"could not make the working tree {dest}: {what}{where}; nothing was left there")


def _make_tree(root: Path, cache: Cache, client: registry.RegistryClient, o: Origin, listing: dict[str, Key],
               layout: Layout, selection: Selection, jobs: int, *, is_latest: bool) -> None:
    gitrepo.init(root)
    gitfilter.configure(root)  # before anything is committed: Git stores pointers, never data
    make_anchor(root, cache)
    cache.register_worktree(root, o.url)  # before the links exist, so a concurrent gc keeps what we fetch
    record_origin(root, o, layout.mode, new=True)
    if not selection.everything:  # a new repository records nothing else: no git call for a whole clone
        record(root, selection)  # before any download: `get` after a kill fetches the same selection
    layout.start(cache, listing)
    # The version's commit by the commit rule (docs/user/history.md): the same id in every clone of
    # this family. The files just made are exactly its tree, so the index is read from it.
    sha = History(root, client, cache, o.project, o.asset, layout.mode, jobs, {o.version: listing},
                  new_repository=True).commits([o.version])[o.version]
    githistory.reset_index_to(root, sha, f"clone {o.project}/{o.asset}@{o.version}")
    if is_latest:  # (a named version costs no request for `..latest`: `selenite fetch` sets it)
        githistory.set_ref(root, LATEST_REF, sha, "the registry's latest")


def download_objects(
    client: registry.RegistryClient, cache: Cache, o: Origin, listing: dict[str, Key],
    specs: dict[str, FileSpec] | None, jobs: int,
) -> None:
    """Fetch the content of ``listing`` (a version's paths) that the cache lacks; ``specs`` says where
    the registry holds each file (None: read from the version's manifest)."""
    keys = set(listing.values())
    absent = {k for k, state in cache.states(keys, cache.signatures()).items() if state != OK}  # (a scan's loop)
    if not absent:
        return
    if specs is None:  # listing from the cached tree: the cached manifest says where bytes live
        m = lookup.manifest(client, cache, registry_id(o.url), o.project, o.asset, o.version)
        specs = parse_manifest(m, o.project, o.asset, o.version)
    sources = {s.key: s.source for s in specs.values() if s.key in absent}
    fetch_objects(client, cache, sources, jobs)


def _install_hooks(root: Path) -> None:
    """Install the pre-commit hook (a refusal is a warning inside ``install_into``; a git failure a note)."""
    try:
        install_into(root)
    except FatalError as e:
        output.info(f"note: hooks not installed: {e}")
