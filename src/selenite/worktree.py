"""Working trees: a version's manifest as relative links into the cache, and the way back (scanning).

A file ``data/x.csv`` of a version is the link::

    data/x.csv -> ../.git/selenite/objects/ab/cd/<KEY>/<KEY>

through the anchor ``.git/selenite/objects -> <cache>/objects`` (absolute, never committed), so
the committed link text holds no machine path. ``scan`` classifies every path Git sees; push,
status and the pre-commit hook all use it.
"""

from __future__ import annotations

import contextlib
import errno
import os
import posixpath
import stat
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

from selenite import gitfiles, gitfilter, gitrepo, safepath
from selenite.gitrepo import blobs
from selenite.cache import CORRUPTED, MISSING, OK, Cache
from selenite.errors import FatalError, NotAWorkingTree, UnsafePath
from selenite.keys import Key, key_for, md5_of_file
from selenite.statsig import StatSig
from selenite.tree.links import ANCHOR, COPIED_TEXT_MAX, key_from_copied_text, key_from_link, link_text, parse_link_text
from selenite.util import atomic_write

# Path classes (docs/develop/internals.md).
UNCHANGED = "unchanged"
MOVED = "moved"
MODIFIED = "modified"
NEW = "new"
DELETED = "deleted"
CONTENT_MISSING = "missing"
OBJECT_CORRUPTED = "corrupted"
OUTSIDE = "outside"
DESTROYED = "destroyed"
CLASSES = (UNCHANGED, MOVED, MODIFIED, NEW, DELETED, CONTENT_MISSING, OBJECT_CORRUPTED, OUTSIDE, DESTROYED)

# --- the tree, its anchor and its origin ------------------------------------------------------------


@dataclass(frozen=True)
class Origin:
    """Where a working tree's content lives."""

    url: str
    project: str
    asset: str
    version: str

    @property
    def spec(self) -> str:
        return f"{self.project}/{self.asset}/{self.version}"


def anchor_path(root: Path) -> Path:
    return root / ANCHOR


def anchor_target(root: Path) -> Path | None:
    """Where the anchor points (the cache's ``objects/``), or None when there is no anchor.

    Where symlinks are refused (a hardlink/copy tree on such a filesystem) the anchor is a small
    regular file holding that absolute path instead."""
    anchor = anchor_path(root)
    try:
        return Path(os.readlink(anchor))
    except OSError as e:
        if e.errno != errno.EINVAL:
            return None
    try:
        text = anchor.read_bytes()[:4096].decode("utf-8").strip()
    except (OSError, UnicodeDecodeError):
        return None
    return Path(text) if text and os.path.isabs(text) else None


def make_anchor(root: Path, cache: Cache) -> None:
    """Point ``.git/selenite/objects`` at ``cache``'s objects (absolute; recreated if different)."""
    anchor = anchor_path(root)
    anchor.parent.mkdir(parents=True, exist_ok=True)
    if anchor_target(root) == cache.objects:
        return
    tmp = anchor.parent / f".objects-{os.getpid()}"
    with contextlib.suppress(FileNotFoundError):
        os.unlink(tmp)
    try:
        os.symlink(cache.objects, tmp)
    except OSError as e:
        if e.errno not in (errno.EPERM, errno.EACCES, errno.ENOTSUP, errno.EOPNOTSUPP, errno.ENOSYS):
            raise
        # No symlinks on this filesystem: a hardlink/copy tree keeps the path as text.
        atomic_write(tmp, (str(cache.objects) + "\n").encode())
    os.replace(tmp, anchor)


def tree_cache(root: Path, default: Cache | Path) -> Cache:
    """The cache a tree's links resolve into: the anchor's, when there is one; else ``default``."""
    target = anchor_target(root)
    if target is not None and target.is_absolute() and target.name == "objects":
        if isinstance(default, Cache) and target == default.objects:
            return default
        return Cache(target.parent)
    return default if isinstance(default, Cache) else Cache(default)


def find_tree(cwd: Path) -> Path:
    """The top of the selenite working tree containing ``cwd``."""
    root = gitrepo.find_root(cwd)
    return root


def origin(root: Path) -> Origin | None:
    """Where the tree's content comes from. The version it is based on is the one HEAD records
    (the trailers of the newest version commit reachable from HEAD): `git checkout v1`, `git pull`
    or a branch switch change it without telling git config. The registry URL is the local config's
    when set (a local choice), else the trailers'. Without a version commit (a gypsum_client folder
    just adopted), git config alone."""
    url = gitrepo.config_get(root, "selenite.url")
    found = gitrepo.last_version_commit(root)
    head = origin_from_trailers(found[1]) if found is not None else None
    if head is not None:
        return Origin(url or head.url, head.project, head.asset, head.version)
    project = gitrepo.config_get(root, "selenite.project")
    asset = gitrepo.config_get(root, "selenite.asset")
    version = gitrepo.config_get(root, "selenite.version")
    if url and project and asset and version:
        return Origin(url, project, asset, version)
    return None


def origin_from_trailers(trailers: Mapping[str, str]) -> Origin | None:
    url = trailers.get(gitrepo.TRAILER_REGISTRY)
    spec = trailers.get(gitrepo.TRAILER_VERSION, "")
    parts = spec.split("/")
    if not url or len(parts) != 3 or not all(parts):
        return None
    return Origin(url, parts[0], parts[1], parts[2])


def record_origin(root: Path, o: Origin, link_mode: str | None = None) -> None:
    """Write the origin to local git config. ``link_mode`` None keeps the configured mode, else
    takes the tree's (a plain `git clone` of a hardlink/copy tree: the mode its record names)."""
    if link_mode is None:
        from selenite import linkmodes

        link_mode = gitrepo.config_get(root, "selenite.linkmode") or linkmodes.mode_of(root)
    for k, v in (("url", o.url), ("project", o.project), ("asset", o.asset), ("version", o.version), ("linkmode", link_mode)):
        gitrepo.config_set(root, f"selenite.{k}", v)


def require_origin(root: Path) -> Origin:
    o = origin(root)
    if o is None:
        raise NotAWorkingTree(f"{root} is not a selenite working tree (no recorded origin; use `selenite clone`)")
    return o


# --- the last version's listing -------------------------------------------------------------------------


def last_listing(
    root: Path, cache: Cache | None = None, known: Mapping[str, str] | None = None,
    known_keys: Mapping[str, Key | None] | None = None,
) -> dict[str, Key]:
    """{path: key} of the newest version commit: from the cache's tree when its ref is known (no
    git object reads), else from that commit's link texts (``known``: texts read from the working
    tree, so unchanged links need no git object read)."""
    from selenite import linkmodes

    if linkmodes.has_record(root):
        record = linkmodes.read_record(root)  # a hardlink/copy tree: its record is the last version
        return dict(record.files) if record is not None else {}
    found = gitrepo.last_version_commit(root)
    if found is None:
        return {}
    sha, trailers = found
    o = origin_from_trailers(trailers)
    if cache is not None and o is not None:
        from selenite.cache import registry_id

        with contextlib.suppress(FatalError):
            h = cache.get_ref(registry_id(o.url), o.project, o.asset, o.version)
            tree = cache.get_tree(h) if h else None
            if tree is not None:
                return tree
    out: dict[str, Key] = {}
    for path, text in blobs.link_texts(root, sha, known).items():
        if known_keys is not None and known is not None and path in known_keys and known.get(path) == text:
            key = known_keys[path]  # already parsed by the caller
        else:
            key = key_from_link(path, text)
        if key is not None:
            out[path] = key
    return out


# --- scanning ----------------------------------------------------------------------------------------------


class Entry(NamedTuple):
    """One path of the working tree, classified.

    ``status`` is one of ``CLASSES``. ``key`` is the key a link names (links into the anchor, and
    destroyed files: the key of the text they hold); ``old_key`` the key the last version holds at
    this path; ``target`` the link text of a symlink.
    """

    path: str
    status: str
    key: Key | None = None
    old_key: Key | None = None
    target: str | None = None


def scan(
    root: Path,
    cache: Cache,
    *,
    last: Mapping[str, Key] | None = None,
    pathspecs: Sequence[str] = (),
    check_objects: bool = True,
    include_deleted: bool = True,
) -> list[Entry]:
    """Classify every path Git sees (tracked, deleted-tracked, untracked-not-ignored).

    One ``readlink`` per path (plus an ``lstat`` for non-links and a ``stat`` of the object for
    links); signatures come from sqlite in one query; the last version's listing from the cache
    (or two git calls). ``check_objects=False`` skips the object checks (no missing/corrupted).
    A hardlink/copy tree is scanned by ``linkmodes.scan`` (same classes, real files).
    """
    from selenite import linkmodes

    if linkmodes.has_record(root):
        return linkmodes.scan(root, cache, last=last, pathspecs=pathspecs, check_objects=check_objects,
                              include_deleted=include_deleted)
    top = str(root) + os.sep
    # Pass 1: one readlink per path (EINVAL: not a link; ENOENT: gone).
    texts: dict[str, str] = {}
    others: list[str] = []
    gone: list[str] = []
    for path in gitrepo.ls_files(root, pathspecs):
        if path.endswith("/"):
            continue  # a nested repository shown by --others
        try:
            texts[path] = os.readlink(top + path)
        except FileNotFoundError:
            gone.append(path)
        except OSError:
            others.append(path)
    # Pass 2: the key each link names. The key is parsed from the last component; the text must
    # then be exactly the link for that key at that depth (a link leaving the anchor is not ours).
    keys: dict[str, Key | None] = {}
    for path, text in texts.items():
        parsed = parse_link_text(text)
        keys[path] = parsed.key if parsed is not None and parsed.depth == path.count("/") else None
    if last is None:
        last = last_listing(root, cache, texts, keys)
    by_key: set[Key] = set(last.values())
    sigs: dict[str, StatSig] = cache.signatures() if check_objects else {}
    state_memo: dict[Key, str] = {}
    out: list[Entry] = [Entry(p, DELETED, None, last.get(p)) for p in gone]
    for path, key in keys.items():
        old = last.get(path)
        if key is None:
            out.append(Entry(path, OUTSIDE, None, old, texts[path]))
            continue
        if check_objects:
            st = state_memo.get(key)
            if st is None:
                st = state_memo[key] = cache.state(key, sigs)
            if st != OK:
                out.append(Entry(path, CONTENT_MISSING if st == MISSING else OBJECT_CORRUPTED, key, old, texts[path]))
                continue
        out.append(Entry(path, _link_status(key, old, by_key), key, old, texts[path]))
    # Pass 3: everything that is not a link.
    for path in others:
        old = last.get(path)
        try:
            st_ = os.lstat(top + path)
        except FileNotFoundError:
            out.append(Entry(path, DELETED, None, old))
            continue
        if not _is_regular(st_.st_mode):
            if old is not None and stat.S_ISDIR(st_.st_mode) and include_deleted:
                out.append(Entry(path, DELETED, None, old))  # the version's file is a folder now
            continue  # a directory (submodule) or a special file: not ours
        if st_.st_size <= COPIED_TEXT_MAX:
            data = b""
            with contextlib.suppress(OSError):
                with open(top + path, "rb") as f:
                    data = f.read(COPIED_TEXT_MAX + 1)
            dkey = key_from_copied_text(data)
            if dkey is not None:
                out.append(Entry(path, DESTROYED, dkey, old))
                continue
            pkey = gitfilter.parse_pointer(data)
            if pkey is not None:  # a pointer Git checked out without the filter: `get` fills it
                out.append(Entry(path, CONTENT_MISSING if check_objects else _link_status(pkey, old, by_key), pkey, old))
                continue
        if old is not None and gitfiles.read_by_git(path) and st_.st_size == old.size:
            # A file Git reads stays a regular file (a copy, not a link): unchanged when its bytes are.
            with contextlib.suppress(OSError):
                if md5_of_file(Path(top + path)) == old.content():
                    out.append(Entry(path, UNCHANGED, old, old))
                    continue
        out.append(Entry(path, MODIFIED if old is not None else NEW, None, old))
    seen = set(texts).union(others, gone)
    if include_deleted and not pathspecs:
        for path, key in last.items():
            if path not in seen and not _is_file_or_link(top + path):  # gone, or a folder now
                out.append(Entry(path, DELETED, None, key))
    return out


def _link_status(key: Key, old: Key | None, last_keys: set[Key]) -> str:
    """How a link (or pointer) to ``key`` compares with the last version's ``old`` at its path."""
    if old == key:
        return UNCHANGED
    if old is not None:
        return MODIFIED
    return MOVED if key in last_keys else NEW


def linked_keys(root: Path) -> set[Key]:
    """Every key the links of a tree name (what gc must keep); no object checks, no git objects.
    A hardlink tree keeps its record's keys (its files are those objects)."""
    from selenite import linkmodes

    if linkmodes.has_record(root):
        return linkmodes.listing_keys(root)
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


def _is_file_or_link(full: str) -> bool:
    try:
        mode = os.lstat(full).st_mode
    except OSError:
        return False
    return _is_regular(mode) or stat.S_ISLNK(mode)


def _is_regular(mode: int) -> bool:
    return stat.S_ISREG(mode)


# --- making links ------------------------------------------------------------------------------------------


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


def select(entries: Iterable[Entry], root: Path, paths: Sequence[Path], cwd: Path) -> list[Entry]:
    """Entries under the user's PATHS (files or folders, relative to ``cwd``); all when empty."""
    if not paths:
        return list(entries)
    wanted: list[str] = []
    for p in paths:
        full = Path(os.path.abspath(cwd / p))
        try:
            rel = full.relative_to(root)
        except ValueError:
            raise FatalError(f"{p} is outside the working tree {root}") from None
        wanted.append(rel.as_posix())
    entries = list(entries)
    for p, w in zip(paths, wanted):
        # A typo must not look like success ("nothing to get"): name what is not there.
        if w != "." and not os.path.lexists(root / w) and not any(e.path == w or e.path.startswith(w + "/") for e in entries):
            raise FatalError(f"{p}: no such file or folder in the working tree")
    if "." in wanted:
        return entries
    return [e for e in entries if any(e.path == w or e.path.startswith(w + "/") for w in wanted)]


__all__ = [
    "CLASSES", "CONTENT_MISSING", "DELETED", "DESTROYED", "MODIFIED", "MOVED", "NEW",
    "OBJECT_CORRUPTED", "OK", "OUTSIDE", "UNCHANGED", "Entry", "Origin", "anchor_path", "anchor_target",
    "find_tree", "last_listing",
    "make_anchor", "make_links", "origin", "origin_from_trailers", "record_origin", "relink", "require_origin",
    "scan", "select", "tree_cache", "linked_keys", "FileSpec", "parse_manifest",
]


# --- manifests -> listings ---------------------------------------------------------------------------------


class FileSpec(NamedTuple):
    """One file of a version: its key, and the bucket key that holds its real bytes (a link's
    ancestor, else its target, else the file itself)."""

    key: Key
    source: str


def _name(value: object, what: str) -> str:
    if not isinstance(value, str) or not value or value in (".", "..") or any(c in value for c in "/\\\x00"):
        raise UnsafePath(f"manifest names {what} {safepath.shown(value)}, which is not a usable name")
    return value


def parse_manifest(manifest: Mapping[str, object], project: str, asset: str, version: str) -> dict[str, FileSpec]:
    """Validate a version's manifest completely (before anything is written) and turn it into
    {path: FileSpec}. Absolute paths, '..', backslashes, bad md5s or sizes raise ``FatalError``."""
    where = f"{project}/{asset}/{version}"
    out: dict[str, FileSpec] = {}
    for path, entry in manifest.items():
        path = safepath.check(path, f"the version {where} lists")
        if not isinstance(entry, dict):
            raise FatalError(f"manifest of {where}: entry {path!r} is not an object")
        try:
            key = key_for(entry.get("md5sum"), entry.get("size"), path)  # type: ignore[arg-type]
        except FatalError as e:
            raise FatalError(f"manifest of {where}: {path!r}: {e}") from None
        source = f"{where}/{path}"
        link = entry.get("link")
        if link is not None:
            if not isinstance(link, dict):
                raise FatalError(f"manifest of {where}: the link of {path!r} is not an object")
            target = link.get("ancestor") if isinstance(link.get("ancestor"), dict) else link
            tp = _name(target.get("project"), "a project")
            ta = _name(target.get("asset"), "an asset")
            tv = _name(target.get("version"), "a version")
            tpath = safepath.check(target.get("path"), f"the version {where} links {safepath.shown(path)} to")
            source = f"{tp}/{ta}/{tv}/{tpath}"
        out[path] = FileSpec(key, source)
    safepath.check_listing(out, f"the version {where}")
    return out
