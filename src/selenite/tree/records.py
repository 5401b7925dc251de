"""Hardlink and copy trees: the record that stands in for the links (docs/user/link-modes.md).

In ``hardlink`` and ``copy`` modes the tree's files are real files, so Git must not hold them:

- ``.selenite/tree.json`` (committed) is the tree's record: the link mode and ``{path: key}`` of the
  version the tree was made from or last pushed as;
- a block in ``.git/info/exclude`` (local, rewritten by selenite) ignores everything but
  ``.selenite/``, so ``git add -A`` never stores data bytes in Git;
- ``.git/selenite/placed.json`` (local) says which record the files on disk were placed from, and
  which of its paths are not on disk yet (so an absent path is told apart: not fetched, or deleted).

Scanning such a tree is ``records_scan``; writing its files is ``place``.
"""

from __future__ import annotations

import json
import os
import stat
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import NamedTuple

from selenite import gitrepo, safepath
from selenite.cache import Cache, tree_hash
from selenite.errors import FatalError
from selenite.keys import Key, try_parse_key
from selenite.tree.modes import COPY, HARDLINK
from selenite.util import atomic_write, write_marked_block

RECORD_DIR = ".selenite"
RECORD = RECORD_DIR + "/tree.json"  # relative to the top of the working tree; committed
_RECORD_FORMAT = 1
_STATE = ".git/selenite/placed.json"  # local; never committed
HASHES = ".git/selenite/hashes.sqlite"  # the stat cache of a copy tree's files (push uses it too)
# The marker line is matched in existing trees: its text (and its old doc path) must never change.
_EXCLUDE_BEGIN = "# >>> selenite: data files are not Git's in hardlink/copy trees (docs/link-modes.md)"
_EXCLUDE_END = "# <<< selenite"
_EXCLUDE_BODY = ("/*", f"!/{RECORD_DIR}/")


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


def record_bytes(mode: str, files: Mapping[str, Key]) -> bytes:
    """The record's exact bytes: a version commit (``selenite.history``) holds them too."""
    # One entry per line, sorted: a version change is a readable `git diff` of this file.
    doc = {"selenite": _RECORD_FORMAT, "mode": mode, "files": {p: files[p].name for p in sorted(files)}}
    return (json.dumps(doc, indent=1) + "\n").encode()


def write_record(root: Path, mode: str, files: Mapping[str, Key]) -> None:
    atomic_write(safepath.parent(root, RECORD), record_bytes(mode, files))


def record_mode(root: Path) -> str:
    """The link mode of a tree with a record: git config's hardlink/copy (a local choice), else
    the record's."""
    configured = gitrepo.config_get(root, "selenite.linkmode")
    if configured is not None and configured in (HARDLINK, COPY):
        return configured
    rec = read_record(root)
    return rec.mode if rec is not None else COPY


def write_exclude(root: Path) -> None:
    """Make Git ignore everything in the tree but ``.selenite/`` (a marked block in info/exclude;
    the user's own lines there are kept)."""
    write_marked_block(root / ".git" / "info" / "exclude", _EXCLUDE_BEGIN, _EXCLUDE_END, _EXCLUDE_BODY)


def data_files(root: Path, pathspecs: Sequence[str] = ()) -> list[str]:
    """Files of the tree as data: tracked and untracked, minus what the user's own ignore files
    (per-folder ``.gitignore``, the global excludes file) ignore — selenite's info/exclude block is
    deliberately not applied — and minus ``.selenite/``."""
    prefix = RECORD_DIR + "/"
    paths = gitrepo.ls_files_by_user_ignores(root, pathspecs)
    return [p for p in paths if not p.startswith(prefix) and not p.endswith("/")]


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


def start_tree(root: Path, mode: str, listing: Mapping[str, Key]) -> None:
    """What a new hardlink/copy tree needs before its first commit: the record and the ignore block."""
    for path in listing:
        check_data_path(path, "the version")
    write_record(root, mode, listing)
    write_exclude(root)
