"""Symlink trees: a version's files as relative links into the cache, and the way back (scanning).

A file ``data/x.csv`` of a version is the link ``../.git/selenite/objects/ab/cd/<KEY>/<KEY>``
(``links``), committed as it is: Git holds the link texts, the cache holds the bytes. ``scan``
classifies every path Git sees; push, status and the pre-commit check all use it.
"""

from __future__ import annotations

import contextlib
import os
import posixpath
import stat
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

from selenite import gitfiles, gitrepo, safepath
from selenite.cache import CORRUPTED, MISSING, OK, Cache, read_object, registry_id
from selenite.errors import FatalError
from selenite.gitrepo import blobs
from selenite.gitrepo.listings import Listings
from selenite.keys import Key, md5_of_file
from selenite.tree.entry import Entry, PathStatus, UnchangedPaths, status_of
from selenite.tree.links import COPIED_TEXT_MAX, key_from_copied_text, key_from_link, link_text, parse_link_text
from selenite.tree.origin import origin_from_trailers
from selenite.tree.pointers import parse_pointer, pointer, read_pointer_file
from selenite.tree.vouched import Vouching, start_listings
from selenite.util import atomic_write_chunks


def last_listing(
    root: Path, cache: Cache | None = None, known: Mapping[str, str] | None = None,
    known_keys: Mapping[str, Key | None] | None = None,
) -> dict[str, Key]:
    """{path: key} of the newest version commit: from the cache's tree when its ref is known (no
    git object reads), else from that commit's link texts (``known``: texts read from the working
    tree, so unchanged links need no git object read; ``known_keys``: the keys already parsed)."""
    found = gitrepo.last_version_commit(root)
    if found is None:
        return {}
    cached = _cached_listing(cache, found[1]) if cache is not None else None
    return cached if cached is not None else _listing_from_git(root, found[0], known, known_keys)


def _cached_listing(cache: Cache, trailers: Mapping[str, str]) -> dict[str, Key] | None:
    """The version's listing as the cache recorded it (its ref, then its tree); None when unknown."""
    h = _cached_ref(cache, trailers)
    return cache.get_tree(h) if h else None


def _cached_ref(cache: Cache, trailers: Mapping[str, str]) -> str | None:
    """The tree hash the cache recorded for the version the trailers name; None when unknown."""
    o = origin_from_trailers(trailers)
    if o is None:
        return None
    with contextlib.suppress(FatalError):
        return cache.get_ref(registry_id(o.url), o.project, o.asset, o.version)
    return None


def _listing_from_git(root: Path, sha: str, known: Mapping[str, str] | None,
                      known_keys: Mapping[str, Key | None] | None) -> dict[str, Key]:
    out: dict[str, Key] = {}
    for path, text in blobs.link_texts(root, sha, known).items():
        if known_keys is not None and known is not None and path in known_keys and known.get(path) == text:
            key = known_keys[path]
        else:
            key = key_from_link(path, text)
        if key is not None:
            out[path] = key
    return out


def scan(root: Path, cache: Cache, *, last: Mapping[str, Key] | None = None, pathspecs: Sequence[str] = (),
         check_objects: bool = True, include_deleted: bool = True, views: Listings | None = None) -> list[Entry]:
    """``survey``, every path an ``Entry``."""
    found = survey(root, cache, last=last, pathspecs=pathspecs, check_objects=check_objects,
                   include_deleted=include_deleted, views=views)
    return found.entries() if isinstance(found, UnchangedPaths) else found


def survey(root: Path, cache: Cache, *, last: Mapping[str, Key] | None = None, pathspecs: Sequence[str] = (),
           check_objects: bool = True, include_deleted: bool = True,
           views: Listings | None = None) -> list[Entry] | UnchangedPaths:
    """Classify every path Git sees (tracked, deleted-tracked, untracked-not-ignored).

    When the last version's listing is known (given, or in the cache) and no pathspec narrows the
    scan, the links Git vouches for (``vouched``) are taken as the last version has them, unread;
    every other path gets one ``readlink`` (plus an ``lstat`` for non-links). Links then get a
    ``stat`` of their object: intact when the check stamp vouches for it, else checked against the
    signatures sqlite gives in one query. ``check_objects=False`` skips the object checks (no
    missing/corrupted). When the stamps tell that nothing changed (``vouched.Vouching``), the answer
    is ``UnchangedPaths``, with no ``Entry`` made per path. ``views``: Git's listings of this same
    state (``start_listings``' at least) when the caller started them already (push's check).
    """
    top = str(root) + os.sep
    views = None if pathspecs else views if views is not None else start_listings(root)
    found = gitrepo.last_version_commit(root) if last is None else None
    ref = _cached_ref(cache, found[1]) if found is not None else None
    known = Vouching(views, cache.root, ref if last is None else None, check_objects) if views is not None else None
    if known is not None and known.unchanged is not None:  # nothing changed since both stamps: nothing read
        return known.unchanged
    if last is None:
        last = (cache.get_tree(ref) if ref else None) if found is not None else {}
    vouched: dict[str, tuple[Key, str]] = {}
    if known is not None:  # unknown last version (None): Git vouches for nothing, every path is read
        vouched, paths = known.vouched_links(last)
    else:
        paths = gitrepo.ls_files(root, pathspecs)
    texts, others, gone = _read_links(top, paths)
    # Pass 2: the key each link names, when its text is exactly the link for that key at that
    # depth (a link leaving the anchor, or moved to another depth, is not ours as it is).
    keys: dict[str, Key | None] = {}
    for path, text in texts.items():
        parsed = parse_link_text(text)
        keys[path] = parsed.key if parsed is not None and parsed.depth == path.count("/") else None
    if last is None and found is not None:  # the cache does not know the version: its links from Git
        last = _listing_from_git(root, found[0], texts, keys)
    last = last or {}
    for path, (key, text) in vouched.items():
        keys[path] = key
        texts[path] = text
    out = [Entry(p, PathStatus.DELETED, None, last.get(p)) for p in gone]
    out += _links(keys, texts, last, _object_states(cache, keys, known, vouched) if check_objects else None)
    by_key = set(last.values())
    for path in others:
        entry = _file_entry(top, path, last.get(path), by_key, check_objects, include_deleted)
        if entry is not None:
            out.append(entry)
    seen = set(texts).union(others, gone)
    if include_deleted and not pathspecs:
        for path, key in last.items():
            if path not in seen and not _is_file_or_link(top + path):  # gone, or a folder now
                out.append(Entry(path, PathStatus.DELETED, None, key))
    return out


def _read_links(top: str, paths: Iterable[str]) -> tuple[dict[str, str], list[str], list[str]]:
    """Pass 1: one readlink per path: ({path: link text}, paths that are not links, paths gone)."""
    texts: dict[str, str] = {}
    others: list[str] = []
    gone: list[str] = []
    for path in paths:
        if path.endswith("/"):
            continue  # a nested repository shown by --others
        try:
            texts[path] = os.readlink(top + path)
        except FileNotFoundError:
            gone.append(path)
        except OSError:  # EINVAL: not a link
            others.append(path)
    return texts, others, gone


def _object_states(cache: Cache, keys: Mapping[str, Key | None], known: Vouching | None,
                   vouched: Mapping[str, tuple[Key, str]]) -> dict[Key, str]:
    """The state of each link's object: intact when the check stamp vouches for it (``known``), else
    looked at (the signatures loaded in one query when there are many); what was found intact
    besides is stamped for the next scan, as the check stamps only a tree with nothing corrupted."""
    intact = known.intact_names() if known is not None else set()
    pending = {k for k in keys.values() if k is not None and k.name not in intact}
    states = dict.fromkeys({k for k in keys.values() if k is not None} - pending, OK)
    if len(pending) > 32:
        states.update(cache.states(pending, cache.signatures()))
    else:
        states.update((k, cache.state(k)) for k in pending)
    if known is not None and pending and CORRUPTED not in states.values():
        known.remember(vouched, {k for k in pending if states[k] == OK})
    return states


def _links(keys: Mapping[str, Key | None], texts: Mapping[str, str], last: Mapping[str, Key],
           states: Mapping[Key, str] | None) -> list[Entry]:
    """Entries of the symlinks: their key against the last version, and the state of its object
    (``states``; None: not judged)."""
    by_key = set(last.values())
    out: list[Entry] = []
    for path, key in keys.items():
        old = last.get(path)
        if key is None:
            out.append(Entry(path, PathStatus.OUTSIDE, None, old, texts[path]))
            continue
        if states is not None:
            st = states[key]
            if st != OK:
                status = PathStatus.CONTENT_MISSING if st == MISSING else PathStatus.OBJECT_CORRUPTED
                out.append(Entry(path, status, key, old, texts[path]))
                continue
        out.append(Entry(path, status_of(key, old, by_key), key, old, texts[path]))
    return out


def _file_entry(top: str, path: str, old: Key | None, by_key: set[Key], check_objects: bool,
                include_deleted: bool) -> Entry | None:
    """The entry of a path that is not a symlink (None: a folder or special file, not ours)."""
    try:
        st = os.lstat(top + path)
    except FileNotFoundError:
        return Entry(path, PathStatus.DELETED, None, old)
    if not stat.S_ISREG(st.st_mode):
        if old is not None and stat.S_ISDIR(st.st_mode) and include_deleted:
            return Entry(path, PathStatus.DELETED, None, old)  # the version's file is a folder now
        return None  # a directory (submodule) or a special file: not ours
    if st.st_size <= COPIED_TEXT_MAX and (small := _small_file_entry(top, path, old, by_key, check_objects)):
        return small
    if old is not None and gitfiles.read_by_git(path) and st.st_size == old.size:
        # A file Git reads stays a regular file (a copy, not a link): unchanged when its bytes are.
        with contextlib.suppress(OSError):
            if md5_of_file(Path(top + path)) == old.content():
                return Entry(path, PathStatus.UNCHANGED, old, old)
    return Entry(path, PathStatus.MODIFIED if old is not None else PathStatus.NEW, None, old)


def _small_file_entry(top: str, path: str, old: Key | None, by_key: set[Key], check_objects: bool) -> Entry | None:
    """A small file that holds a link's text (destroyed) or a pointer; None for anything else."""
    data = b""
    with contextlib.suppress(OSError), open(top + path, "rb") as f:
        data = f.read(COPIED_TEXT_MAX + 1)
    dkey = key_from_copied_text(data)
    if dkey is not None:
        return Entry(path, PathStatus.DESTROYED, dkey, old)
    pkey = parse_pointer(data)
    if pkey is not None:  # a pointer Git checked out without the filter: `get` fills it
        return Entry(path, PathStatus.CONTENT_MISSING if check_objects else status_of(pkey, old, by_key), pkey, old)
    return None


def _is_file_or_link(full: str) -> bool:
    try:
        mode = os.lstat(full).st_mode
    except OSError:
        return False
    return stat.S_ISREG(mode) or stat.S_ISLNK(mode)


def linked_keys(root: Path) -> set[Key]:
    """Every key the links of a tree name (what gc must keep); no object checks, no git objects."""
    top = str(root) + os.sep
    keys: set[Key] = set()
    for path in gitrepo.ls_files(root):
        try:
            text = os.readlink(top + path)
        except OSError:
            continue
        key = key_from_link(path, text)
        if key is not None:
            keys.add(key)
    return keys


def make_links(root: Path, listing: Mapping[str, Key]) -> None:
    """Create one relative link per file (folders as needed). Paths must already be validated."""
    made_dirs: set[str] = set()
    top = str(root) + os.sep
    for path, key in listing.items():
        d = posixpath.dirname(path)
        if d and d not in made_dirs:
            os.makedirs(top + d, exist_ok=True)
            made_dirs.add(d)
        os.symlink(link_text(path, key), top + path)


def relink(root: Path, path: str, key: Key, checked: set[str] | None = None) -> None:
    """Replace whatever is at ``path`` by the link to ``key`` (atomically), never through a
    symlinked folder (``safepath.parent``)."""
    full = safepath.parent(root, path, checked)
    tmp = safepath.temp_beside(full)
    os.symlink(link_text(path, key), tmp)
    safepath.replace_with(tmp, full)


def fill_pointers(root: Path, cache: Cache, paths: Iterable[str]) -> list[str]:
    """Replace each pointer file among ``paths`` by its content from the cache (what smudge does
    at checkout); return the paths filled. A folder on the way that is a symlink is refused
    (``safepath.parent``): the file would land outside the tree."""
    filled: dict[str, bytes] = {}
    checked: set[str] = set()
    for rel in paths:
        full = safepath.parent(root, rel, checked, create=False)
        key = read_pointer_file(full)
        if key is None or not cache.ensure_local(key):
            continue
        mode = stat.S_IMODE(os.lstat(full).st_mode)
        atomic_write_chunks(full, read_object(cache, key), mode)
        filled[rel] = pointer(key)
    gitrepo.restage_unchanged(root, filled)
    return list(filled)
