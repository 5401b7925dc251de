"""Working trees without symlinks: hard links to, or copies of, the cache's objects (docs/user/link-modes.md).

In ``hardlink`` and ``copy`` modes the tree's files are real files, so Git must not hold them:

- ``.selenite/tree.json`` (committed) is the tree's record: the link mode and ``{path: key}`` of the
  version the tree was made from or last pushed as;
- a block in ``.git/info/exclude`` (local, rewritten by selenite) ignores everything but
  ``.selenite/``, so ``git add -A`` never stores data bytes in Git;
- ``.git/selenite/placed.json`` (local) says which record the files on disk were placed from, and
  which of its paths are not on disk yet (so an absent path is told apart: not fetched, or deleted).

Unchanged files are recognised without hashing: in hardlink mode by sharing the object's inode
with the object's recorded stat signature intact; in copy mode (and for a hard-link-mode file that
is a separate file) by the per-tree stat cache, hashing only files whose stat changed.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import shutil
import stat
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import NamedTuple

from selenite import gitrepo, output, safepath, statsig
from selenite.cache import OK, Cache, tree_hash
from selenite.errors import FatalError
from selenite.keys import Key, md5_of_file, try_parse_key
from selenite.statcache import StatCache
from selenite.statsig import StatSig
from selenite.tree.links import key_from_link
from selenite.util import atomic_write, user_file_mode, write_marked_block

SYMLINK = "symlink"
HARDLINK = "hardlink"
COPY = "copy"
AUTO = "auto"
MODES = (SYMLINK, HARDLINK, COPY)

RECORD_DIR = ".selenite"
RECORD = RECORD_DIR + "/tree.json"  # relative to the top of the working tree; committed
_RECORD_FORMAT = 1
_STATE = ".git/selenite/placed.json"  # local; never committed
_HASHES = ".git/selenite/hashes.sqlite"  # the stat cache push uses too
_EXCLUDE_BEGIN = "# >>> selenite: data files are not Git's in hardlink/copy trees (docs/link-modes.md)"
_EXCLUDE_END = "# <<< selenite"
_EXCLUDE_BODY = ("/*", f"!/{RECORD_DIR}/")

# Errors that mean "this filesystem (or this file) will not take a link here": fall back, not fail.
_LINK_REFUSED = {errno.EPERM, errno.EACCES, errno.EXDEV, errno.EMLINK, errno.ENOTSUP, errno.EOPNOTSUPP, errno.ENOSYS}


# --- the record ---------------------------------------------------------------------------------


class Record(NamedTuple):
    mode: str
    files: dict[str, Key]


_record_memo: dict[str, tuple[tuple[int, int, int], Record]] = {}


def record_path(root: Path) -> Path:
    return root / RECORD


def has_record(root: Path) -> bool:
    """A regular ``.selenite/tree.json`` in a real ``.selenite`` folder (a committed ``.selenite``
    symlink would lead selenite to read and write another tree's record)."""
    try:
        return (stat.S_ISREG(os.lstat(record_path(root)).st_mode)
                and not stat.S_ISLNK(os.lstat(root / RECORD_DIR).st_mode))
    except OSError:
        return False


def parse_record(data: bytes, where: str) -> Record:
    """Validate a record completely (paths and key names come from a commit: untrusted)."""
    try:
        doc = json.loads(data)
    except ValueError:
        doc = None
    files = doc.get("files") if isinstance(doc, dict) else None
    mode = doc.get("mode") if isinstance(doc, dict) else None
    if not isinstance(files, dict) or mode not in (HARDLINK, COPY):
        raise FatalError(f"{where} is damaged (restore it with `git checkout HEAD -- {RECORD}`)")
    out: dict[str, Key] = {}
    for path, name in files.items():
        key = try_parse_key(name) if isinstance(name, str) else None
        if key is None or not isinstance(path, str):
            raise FatalError(f"{where}: entry {path!r} does not name a key")
        check_data_path(path, where)
        out[path] = key
    safepath.check_listing(out, where)
    return Record(mode, out)


def check_data_path(path: str, where: str) -> None:
    """``safepath.check``, and the record's own folder is not a data path."""
    safepath.check(path, f"{where} lists")
    if path == RECORD_DIR or path.startswith(RECORD_DIR + "/"):
        raise FatalError(f"{where} lists {path!r}, which is where a hardlink/copy tree keeps its record; "
                         "clone it with --link-mode symlink")


def read_record(root: Path) -> Record | None:
    """The working tree's record, or None when there is none (a symlink tree)."""
    path = record_path(root)
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return None
    if not stat.S_ISREG(st.st_mode) or not has_record(root):
        return None
    sig = (st.st_size, st.st_mtime_ns, st.st_ino)
    hit = _record_memo.get(str(path))
    if hit is not None and hit[0] == sig:
        return hit[1]
    rec = parse_record(path.read_bytes(), RECORD)
    _record_memo[str(path)] = (sig, rec)
    return rec


def write_record(root: Path, mode: str, files: Mapping[str, Key]) -> None:
    # One entry per line, sorted: a version change is a readable `git diff` of this file.
    doc = {"selenite": _RECORD_FORMAT, "mode": mode, "files": {p: files[p].name for p in sorted(files)}}
    atomic_write(safepath.parent(root, RECORD), (json.dumps(doc, indent=1) + "\n").encode())


def mode_of(root: Path) -> str:
    """The tree's link mode: symlink without a record; else git config's hardlink/copy (a local
    choice), else the record's. No git call for a symlink tree (one ``lstat``)."""
    if not has_record(root):
        return SYMLINK
    configured = gitrepo.config_get(root, "selenite.linkmode")
    if configured in (HARDLINK, COPY):
        return configured
    rec = read_record(root)
    return rec.mode if rec is not None else COPY


def write_exclude(root: Path) -> None:
    """Make Git ignore everything in the tree but ``.selenite/`` (a marked block in info/exclude;
    the user's own lines there are kept)."""
    write_marked_block(root / ".git" / "info" / "exclude", _EXCLUDE_BEGIN, _EXCLUDE_END, _EXCLUDE_BODY)


# --- which files the tree has ------------------------------------------------------------------------


def data_files(root: Path, pathspecs: Sequence[str] = ()) -> list[str]:
    """Files of the tree as data: tracked and untracked, minus what the user's own ignore files
    (per-folder ``.gitignore``, the global excludes file) ignore — selenite's info/exclude block is
    deliberately not applied — and minus ``.selenite/``."""
    args = ["ls-files", "-z", "--cached", "--others", "--exclude-per-directory=.gitignore"]
    global_excludes = _global_excludes(root)
    if global_excludes is not None:
        args.append(f"--exclude-from={global_excludes}")
    if pathspecs:
        args += ["--", *pathspecs]
    paths = gitrepo.split_nul(gitrepo._run(root, *args))
    prefix = RECORD_DIR + "/"
    return [p for p in dict.fromkeys(paths) if not p.startswith(prefix) and not p.endswith("/")]


def _global_excludes(root: Path) -> str | None:
    configured = gitrepo.config_get(root, "core.excludesFile")
    if configured:
        path = os.path.expanduser(configured)
    else:
        xdg = os.environ.get("XDG_CONFIG_HOME") or os.path.join(os.path.expanduser("~"), ".config")
        path = os.path.join(xdg, "git", "ignore")
    return path if os.path.isfile(path) else None


# --- what was placed ------------------------------------------------------------------------------------


class Placed(NamedTuple):
    tree: str  # tree hash of the listing the files on disk were placed from
    pending: frozenset[str]  # its paths that were not on disk when it was written


def read_placed(root: Path) -> Placed | None:
    try:
        doc = json.loads((root / _STATE).read_bytes())
        return Placed(str(doc["tree"]), frozenset(str(p) for p in doc["pending"]))
    except (OSError, ValueError, KeyError, TypeError):
        return None  # never placed here (a plain `git clone`), or unreadable: every absent path is missing


def write_placed(root: Path, listing: Mapping[str, Key], cache: Cache | None = None) -> None:
    """Record that the files on disk follow ``listing`` (its absent paths are pending)."""
    top = str(root) + os.sep
    pending = sorted(p for p in listing if not os.path.lexists(top + p))
    h = cache.put_tree(listing) if cache is not None else tree_hash(listing)
    atomic_write(root / _STATE, json.dumps({"tree": h, "pending": pending}).encode())


def out_of_sync(root: Path, record: Record | None = None) -> bool:
    """The record changed since the files were placed (``git checkout``/``pull`` of another version)."""
    record = record or read_record(root)
    placed = read_placed(root)
    return record is not None and placed is not None and placed.tree != tree_hash(record.files)


def require_in_sync(root: Path) -> None:
    if has_record(root) and out_of_sync(root):
        raise FatalError(f"the files here were placed from another version than {RECORD} names "
                         "(after a git checkout or pull?): run `selenite get` first")


# --- choosing a mode ------------------------------------------------------------------------------------


def choose(root: Path, cache: Cache, requested: str) -> str:
    """The mode to clone with. ``auto`` tries symlink, hardlink, copy in that order and says which
    it used; an explicit mode that this filesystem refuses is a clear error."""
    if requested not in (*MODES, AUTO):
        raise FatalError(f"--link-mode {requested!r}: expected symlink, hardlink, copy or auto")
    order = list(MODES) if requested == AUTO else [requested]
    refused: list[str] = []
    for mode in order:
        why = _probe(root, cache, mode)
        if why is None:
            if requested == AUTO:
                note = f" ({'; '.join(refused)})" if refused else ""
                output.info(f"link mode auto: using {mode}{note}")
            return mode
        refused.append(f"{mode}s refused here: {why}")
        if requested != AUTO:
            hint = "hardlink or copy" if mode == SYMLINK else "copy"
            raise FatalError(f"--link-mode {mode}: {refused[-1]}; use --link-mode {hint} (or auto)")
    raise AssertionError("copy mode cannot be refused")


def _probe(root: Path, cache: Cache, mode: str) -> str | None:
    """None when ``mode`` works for files in ``root`` from ``cache``; else the reason it does not."""
    probe = root / f".selenite-probe-{os.getpid()}"
    if mode == SYMLINK:
        try:
            os.symlink(".", probe)
        except OSError as e:
            return e.strerror or str(e)
        os.unlink(probe)
        return None
    if mode == HARDLINK:
        src = cache.tmp / f"probe-{os.getpid()}"
        src.write_bytes(b"")
        try:
            os.link(src, probe)
        except OSError as e:
            return f"{e.strerror or e} (from the cache at {cache.root})"
        finally:
            src.unlink()
        os.unlink(probe)
    return None


# --- placing files --------------------------------------------------------------------------------------


def place(root: Path, cache: Cache, mode: str, path: str, key: Key, hashes: StatCache | None = None,
          checked: set[str] | None = None, sigs: dict[str, StatSig] | None = None) -> bool:
    """Put ``key``'s object at ``path`` as a hard link (read-only, the object's own inode) or a
    writable copy; replace whatever is there, atomically. False when the object is absent.

    A hard link the filesystem refuses for this one file (e.g. too many links to one inode) is made
    a copy: the tree still works, only that file costs its bytes twice.

    Never writes through a symlinked folder: a plain `git clone` of someone's tree may hold a
    committed ``escape -> ~/.ssh`` and a record naming ``escape/authorized_keys`` (``safepath.parent``).

    A hard link moves the object's ctime, part of its signature: it is signed again right after
    (``Cache.keeping_signatures``; ``sigs`` is kept up to date), so the next check needs no hash."""
    full = safepath.parent(root, path, checked)
    obj = cache.object_path(key)
    tmp = safepath.temp_beside(full)
    if mode == HARDLINK:
        with cache.keeping_signatures([key], sigs):  # the link and its rename move the object's ctime
            try:
                os.link(obj, tmp)
            except FileNotFoundError:
                return False
            except OSError as e:
                if e.errno not in _LINK_REFUSED:
                    raise
            else:
                safepath.replace_with(tmp, full)
                return True
    try:
        shutil.copyfile(obj, tmp)  # copy_file_range: a reflink where the filesystem offers one
    except FileNotFoundError:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        return False
    try:
        os.chmod(tmp, user_file_mode())
        statsig.backdate(tmp)  # so the stat cache can vouch for it at once (not racily clean)
        with open(tmp, "rb") as f:
            os.fsync(f.fileno())  # the stat cache will vouch for these bytes: they must be on disk
        os.replace(tmp, full)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    if hashes is not None:
        hashes.remember([(path, os.stat(full), key.md5)])
    return True


def check_placeable(root: Path, paths: Iterable[str]) -> None:
    """Refuse, before anything is fetched or written, paths ``place`` would refuse (a folder above
    one is a symlink, or not a folder)."""
    checked: set[str] = set()
    for path in paths:
        safepath.parent(root, path, checked, create=False)


def place_all(root: Path, cache: Cache, mode: str, listing: Mapping[str, Key], paths: Iterable[str] | None = None) -> int:
    """Place every path of ``listing`` (or only ``paths``) whose object is present and intact."""
    hashes = StatCache(root / _HASHES)
    sigs = cache.signatures()
    state: dict[Key, str] = {}
    checked: set[str] = set()
    n = 0
    try:
        for path in listing if paths is None else paths:
            key = listing[path]
            st = state.get(key)
            if st is None:
                st = state[key] = cache.state(key, sigs)
            if st == OK and place(root, cache, mode, path, key, hashes, checked, sigs):
                n += 1
    finally:
        hashes.close()
    return n


def shares_object(root: Path, path: str, cache: Cache, key: Key) -> bool:
    """The file at ``path`` is the object itself (a hard link): writing to it writes the cache."""
    try:
        a = os.lstat(root / path)
        b = os.stat(cache.object_path(key))
    except OSError:
        return False
    return stat.S_ISREG(a.st_mode) and (a.st_ino, a.st_dev) == (b.st_ino, b.st_dev)


def start_tree(root: Path, mode: str, listing: Mapping[str, Key]) -> None:
    """What a new hardlink/copy tree needs before its first commit: the record and the ignore block."""
    for path in listing:
        check_data_path(path, "the version")
    write_record(root, mode, listing)
    write_exclude(root)


# --- scanning -------------------------------------------------------------------------------------------


def scan(
    root: Path, cache: Cache, *, last: Mapping[str, Key] | None = None, pathspecs: Sequence[str] = (),
    check_objects: bool = True, include_deleted: bool = True,
) -> list:  # list[worktree.Entry]
    """``worktree.scan`` for a hardlink/copy tree: the same classes, found without symlinks."""
    from selenite import worktree as wt

    record = read_record(root)
    files = record.files if record is not None else {}
    if last is None:
        last = files
    placed = read_placed(root)
    in_sync = placed is not None and placed.tree == tree_hash(files)
    placed_listing: Mapping[str, Key] | None = None
    if placed is not None and not in_sync:
        placed_listing = cache.get_tree(placed.tree)
    by_key = set(last.values())
    top = str(root) + os.sep

    candidates = data_files(root, pathspecs)
    listed = set(candidates)
    for p in last:
        if p not in listed and (not pathspecs or any(p == s or p.startswith(s.rstrip("/") + "/") for s in pathspecs)):
            candidates.append(p)

    sigs = cache.signatures()
    try:
        objects_dev = os.stat(cache.objects).st_dev
    except OSError:
        objects_dev = -1
    inode_key = {}  # a hard link moved within the tree still shares its object's inode
    for k in by_key:
        sig = sigs.get(k.name)
        if sig is not None:
            inode_key[sig.inode] = k
    state_memo: dict[Key, str] = {}

    def object_state(key: Key) -> str:
        st_ = state_memo.get(key)
        if st_ is None:
            st_ = state_memo[key] = cache.state(key, sigs)
        return st_

    out: list[wt.Entry] = []
    to_hash: dict[str, Key | None] = {}  # path -> the key it must match (None: a new file)
    for path in candidates:
        old = last.get(path)
        try:
            st = os.lstat(top + path)
        except FileNotFoundError:
            if old is None:
                continue
            if _was_placed(path, in_sync, placed, placed_listing):
                if include_deleted:
                    out.append(wt.Entry(path, wt.DELETED, None, old))
            else:
                out.append(wt.Entry(path, wt.CONTENT_MISSING, old, old))
            continue
        if stat.S_ISLNK(st.st_mode):
            out.append(_symlink_entry(root, path, old, by_key, object_state if check_objects else None))
            continue
        if not stat.S_ISREG(st.st_mode):
            if old is not None and stat.S_ISDIR(st.st_mode) and include_deleted:
                out.append(wt.Entry(path, wt.DELETED, None, old))  # the file became a folder
            continue
        if placed_listing is not None and old is not None and placed_listing.get(path) not in (None, old):
            # The record moved on (git pull/checkout) and this file still holds what was placed
            # from the older one: not an edit, just content not placed yet.
            pk = placed_listing[path]
            if _is_object(st, pk, sigs, objects_dev, cache):
                out.append(wt.Entry(path, wt.CONTENT_MISSING, old, old))
                continue
            to_hash[path] = old
            continue
        key = old if old is not None else inode_key.get(st.st_ino)
        if key is not None and st.st_dev == objects_dev and _is_object(st, key, sigs, objects_dev, cache):
            sig = sigs.get(key.name)
            intact = statsig.unchanged(st, sig) and st.st_size == key.size
            if not intact and check_objects and object_state(key) != OK:
                out.append(wt.Entry(path, wt.OBJECT_CORRUPTED, key, old))
                continue
            status = wt.UNCHANGED if old == key else (wt.MOVED if old is None else wt.MODIFIED)
            out.append(wt.Entry(path, status, key, old))
            continue
        if old is None:
            out.append(wt.Entry(path, wt.NEW, None, None))
        else:
            to_hash[path] = old

    if to_hash:
        hashes = StatCache(root / _HASHES)
        try:
            digests = hashes.hash_many(root, list(to_hash))
        finally:
            hashes.close()
        for path, want in to_hash.items():
            md5, size = digests[path]
            assert want is not None
            same = (md5, size) == want.content()
            if placed_listing is not None and not same and (pk := placed_listing.get(path)) not in (None, want):
                same_as_placed = (md5, size) == pk.content()
                if same_as_placed:
                    out.append(wt.Entry(path, wt.CONTENT_MISSING, want, want))
                    continue
            out.append(wt.Entry(path, wt.UNCHANGED if same else wt.MODIFIED, want if same else None, want))
    return out


def _was_placed(path: str, in_sync: bool, placed: Placed | None, placed_listing: Mapping[str, Key] | None) -> bool:
    """An absent record path was on disk once (so it was deleted), rather than never fetched."""
    if placed is None or path in placed.pending:
        return False
    return in_sync or (placed_listing is not None and path in placed_listing)


def _is_object(st: os.stat_result, key: Key, sigs: Mapping[str, StatSig], dev: int, cache: Cache) -> bool:
    """The file with stat ``st`` shares ``key``'s object's inode (the recorded signature says so
    without a stat of the object; otherwise the object is stat'ed)."""
    if st.st_dev != dev:
        return False
    sig = sigs.get(key.name)
    if sig is not None and sig.inode == st.st_ino:
        return True
    try:
        ost = os.stat(cache.object_path(key))
    except OSError:
        return False
    return (ost.st_ino, ost.st_dev) == (st.st_ino, st.st_dev)


def _symlink_entry(root: Path, path: str, old: Key | None, by_key: set[Key], object_state) -> object:  # noqa: ANN001
    """A symlink in a hardlink/copy tree: classified as ``worktree.scan`` would."""
    from selenite import worktree as wt

    text = os.readlink(root / path)
    key = key_from_link(path, text)
    if key is None:
        return wt.Entry(path, wt.OUTSIDE, None, old, text)
    if object_state is not None and (st := object_state(key)) != OK:
        return wt.Entry(path, wt.CONTENT_MISSING if st == "missing" else wt.OBJECT_CORRUPTED, key, old, text)
    status = wt.UNCHANGED if old == key else wt.MODIFIED if old is not None else wt.MOVED if key in by_key else wt.NEW
    return wt.Entry(path, status, key, old, text)


# --- get and push -----------------------------------------------------------------------------------------


def materialize(root: Path, cache: Cache, mode: str, entries: Iterable, whole_tree: bool) -> tuple[int, list[str]]:
    """After ``get`` fetched the objects: place every missing path of ``entries``; for the whole
    tree, also remove files the record no longer lists (left from the older record, unedited) and
    mark the files as placed from the current record. Returns (files placed, paths whose object
    is still absent)."""
    from selenite import worktree as wt

    write_exclude(root)  # a plain `git clone` has no ignore block yet
    record = read_record(root)
    files = record.files if record is not None else {}
    todo = {e.path: e.key for e in entries if e.status == wt.CONTENT_MISSING and e.key is not None}
    hashes = StatCache(root / _HASHES)
    sigs = cache.signatures()  # one query, not one per file
    placed_n = 0
    absent: list[str] = []
    checked: set[str] = set()
    try:
        for path, key in sorted(todo.items()):
            if cache.state(key, sigs) == OK and place(root, cache, mode, path, key, hashes, checked, sigs):
                placed_n += 1
            else:
                absent.append(path)
    finally:
        hashes.close()
    if not whole_tree:
        return placed_n, absent
    placed = read_placed(root)
    if placed is not None and placed.tree != tree_hash(files):
        old = cache.get_tree(placed.tree) or {}
        for path, key in old.items():
            if path in files:
                continue
            full = safepath.parent(root, path, checked, create=False)
            if shares_object(root, path, cache, key):
                with cache.keeping_signatures([key], sigs):  # removing a hard link moves its ctime
                    full.unlink()
                _prune_dirs(root, full.parent)
            elif _holds(full, key):
                full.unlink()
                _prune_dirs(root, full.parent)
    write_placed(root, files, cache)
    return placed_n, absent


def _holds(full: Path, key: Key) -> bool:
    try:
        return os.path.isfile(full) and not os.path.islink(full) and md5_of_file(full) == key.content()
    except OSError:
        return False


def _prune_dirs(root: Path, d: Path) -> None:
    while d != root and root in d.parents:
        try:
            d.rmdir()
        except OSError:
            return
        d = d.parent


def after_push(root: Path, cache: Cache, mode: str, path: str, key: Key, hashes: StatCache) -> None:
    """What a pushed path becomes: in copy mode a regular file that holds the pushed bytes stays as
    it is (remembered by the stat cache); otherwise the object is placed there."""
    full = root / path
    if mode == COPY and os.path.isfile(full) and not os.path.islink(full):
        st = os.stat(full)
        hashes.remember([(path, st, key.md5)])
        return
    hashes.forget([path])
    place(root, cache, mode, path, key, hashes)


def record_pushed(root: Path, cache: Cache, mode: str, listing: Mapping[str, Key]) -> None:
    """After a push: the record names the new version, and the files follow it."""
    write_record(root, mode, listing)
    write_placed(root, listing, cache)


def listing_keys(root: Path) -> set[Key]:
    """Keys a hardlink tree keeps in use (what gc must not remove). A copy tree holds its own
    bytes, so it pins nothing: gc may free the cache's copies."""
    if mode_of(root) != HARDLINK:
        return set()
    rec = read_record(root)
    return set(rec.files.values()) if rec is not None else set()


def hook_problems(top: Path, cache_dir: Path) -> list[tuple[str, str, str]]:
    """For the pre-commit check of a hardlink tree: (path, kind, detail) for every file that is its
    object's hard link and whose object no longer matches its key (written in place)."""
    from selenite import worktree as wt

    if not has_record(top):
        return []
    cache = wt.tree_cache(top, cache_dir)
    out = []
    for e in scan(top, cache, include_deleted=False):
        if e.status == wt.OBJECT_CORRUPTED and e.key is not None:
            out.append((e.path, "corrupted",
                        f"the cached object behind this hard link no longer matches its key {e.key.name} "
                        "(written in place?)"))
    return out


__all__ = [
    "AUTO", "COPY", "HARDLINK", "MODES", "RECORD", "SYMLINK", "Placed", "Record", "after_push", "check_placeable", "choose",
    "data_files", "has_record", "hook_problems", "listing_keys", "materialize", "mode_of", "out_of_sync",
    "place", "place_all", "read_placed", "read_record", "record_pushed", "require_in_sync", "scan",
    "shares_object", "start_tree", "write_exclude", "write_placed", "write_record",
]
