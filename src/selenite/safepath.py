"""Which paths selenite will write in a working tree: the one check for every path from outside.

A version's manifest (and its link targets), a hardlink/copy tree's record, a cached tree: all
name paths that someone else chose, and selenite creates files at them. ``check`` refuses, before
anything is written, every path that could leave the tree, reach Git's own folder, or not be held:

- not a non-empty relative '/'-separated string; '', '.', '..' or '..name' components (the
  registry keeps '..' names for itself); a backslash or a drive letter ('C:x');
- a component that is ``.git`` on some filesystem: any case (macOS and Windows fold it), with
  trailing dots or spaces (Windows drops them), its 8.3 short name ``git~1``, or with the
  characters HFS+ ignores (zero-width joiners and the like) inside it;
- control characters (C0, DEL, C1): they rewrite terminals and break line-based tools;
- a component longer than ``NAME_MAX`` bytes, or a path so deep that its link text (one '../'
  per folder) would exceed what a symlink may hold.

``check_listing`` adds the rule for a whole listing: no path is a folder of another. ``parent``
is the write-time half: every folder above a path must be a real folder of the tree, never a
symlink (a committed ``escape -> ~/.ssh`` would otherwise let ``escape/authorized_keys`` through).
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import stat
from collections.abc import Iterable
from pathlib import Path

from selenite.errors import UnsafePath

NAME_MAX = 255  # bytes per path component (ext4, xfs, btrfs, apfs)
# A link's text climbs one '../' per folder, then names the object (about 150 bytes): a path of
# at most this many bytes keeps any link text well below PATH_MAX (4096).
PATH_MAX_BYTES = 2048
TEMP_PREFIX = ".sel-"

# Characters HFS+ ignores when it compares names (git's is_hfs_dotgit list): ".g\u200cit" is ".git" there.
_HFS_IGNORED = re.compile("[\u200c-\u200f\u202a-\u202e\u206a-\u206f\ufeff]")
CONTROL = re.compile("[\x00-\x1f\x7f-\x9f]")  # C0, DEL, C1


def is_git_name(component: str) -> bool:
    """``component`` names Git's folder on some filesystem (``.git``, ``.GIT``, ``.git.``, ``git~1``...)."""
    c = _HFS_IGNORED.sub("", component).rstrip(". ").lower()
    return c in (".git", "git~1")


# A path of plain components (ASCII letters, digits, ``_.+-``; none starting with a dot or a
# dash, none longer than NAME_MAX): none of the rules below can refuse it, so it is answered with one
# match (cached listings of 100,000 paths are checked on every status).
_PLAIN = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.+-]{0,254}(?:/[A-Za-z0-9_][A-Za-z0-9_.+-]{0,254})*")


def problem(path: object) -> str | None:
    """Why ``path`` may not be written in a working tree, or None when it may."""
    if not isinstance(path, str):
        return "is not a string"
    if len(path) <= PATH_MAX_BYTES and _PLAIN.fullmatch(path):
        return None
    return (_text_problem(path) or _shape_problem(path)
            or next((why for part in path.split("/") if (why := _component_problem(part))), None))


def _text_problem(path: str) -> str | None:
    if not path:
        return "is empty"
    if CONTROL.search(path):
        return "holds a control character"
    try:
        path.encode("utf-8")
    except UnicodeEncodeError:
        return "is not valid Unicode"
    return None


def _shape_problem(path: str) -> str | None:
    if path.startswith("/") or (len(path) > 1 and path[1] == ":"):
        return "is absolute"
    if "\\" in path:
        return "holds a backslash"
    if len(path.encode("utf-8")) > PATH_MAX_BYTES:
        return f"is longer than {PATH_MAX_BYTES} bytes"
    return None


def _component_problem(part: str) -> str | None:
    if part in ("", ".", ".."):
        return "has an empty, '.' or '..' component"
    if part.startswith(".."):
        return f"has a component starting with '..' ({part!r}, reserved by the registry)"
    if is_git_name(part):
        return f"has a component {part!r} that names Git's own folder"
    if len(part.encode("utf-8")) > NAME_MAX:
        return f"has a component longer than {NAME_MAX} bytes"
    return None


def check(path: object, what: str = "path") -> str:
    """``path`` when it may be written in a working tree; else ``UnsafePath`` naming it."""
    why = problem(path)
    if why is not None:
        raise UnsafePath(f"{what} {shown(path)}, which {why}")
    assert isinstance(path, str)
    return path


def file_and_folder(paths: Iterable[str]) -> tuple[str, str] | None:
    """The first ``(folder, path)`` of a listing where ``folder`` is a file too and ``path`` lies
    inside it (``a`` and ``a/b``); None when there is none. Shared with the registry."""
    paths = list(paths)
    files = set(paths)
    for p in paths:
        parts = p.split("/")
        for i in range(1, len(parts)):
            folder = "/".join(parts[:i])
            if folder in files:
                return folder, p
    return None


def check_listing(paths: Iterable[str], where: str) -> None:
    """Refuse a listing where one path is a folder of another (``a`` and ``a/b``): the second file
    would have to be written inside the first."""
    hit = file_and_folder(paths)
    if hit is not None:
        raise UnsafePath(f"{where} lists both {shown(hit[0])} and {shown(hit[1])}: a path cannot be a file "
                         "and a folder")


def shown(path: object) -> str:
    """A path as an error message shows it: quoted, with anything unprintable escaped."""
    # Imported here: output imports rich, and the pre-commit hook (which imports this module
    # through the cache) must start fast; only an error message pays for it.
    from selenite.output import printable  # noqa: PLC0415

    return printable(repr(path) if not isinstance(path, str) else f"'{path}'")


def parent(root: Path, path: str, checked: set[str] | None = None, create: bool = True) -> Path:
    """``root / path`` once every folder above it is a real folder of the tree (made as needed, or
    with ``create=False`` not made: then the path simply does not exist); ``UnsafePath`` when one
    is a symlink or not a folder, or when ``path`` itself is a folder. ``checked`` remembers
    folders already seen, for loops over many paths of one tree."""
    check(path, "refusing to write")
    top = str(root)
    parts = path.split("/")
    d = ""
    for part in parts[:-1]:
        d = f"{d}/{part}" if d else part
        if checked is not None and d in checked:
            continue
        full = os.path.join(top, d)
        try:
            st = os.lstat(full)
        except FileNotFoundError:
            if not create:
                return Path(top, path)
            os.mkdir(full)
            st = os.lstat(full)
        if stat.S_ISLNK(st.st_mode):
            raise UnsafePath(f"{shown(d)} is a symlink: refusing to write {shown(path)} through it "
                             "(it may lead out of the working tree)")
        if not stat.S_ISDIR(st.st_mode):
            raise UnsafePath(f"{shown(d)} is not a folder: cannot write {shown(path)}")
        if checked is not None:
            checked.add(d)
    full = os.path.join(top, path)
    try:
        if stat.S_ISDIR(os.lstat(full).st_mode):
            raise UnsafePath(f"{shown(path)} is a folder here: cannot put a file there")
    except FileNotFoundError:
        pass
    return Path(full)


def temp_beside(path: Path) -> Path:
    """A short temp name in ``path``'s folder (``.sel-<random>.tmp``): it fits ``NAME_MAX`` whatever
    the length of ``path``'s own name, and a rename from it is atomic."""
    return path.parent / f"{TEMP_PREFIX}{secrets.token_hex(6)}.tmp"


def replace_with(tmp: Path, full: Path) -> None:
    """``os.replace(tmp, full)``, removing ``tmp`` when that fails (or is interrupted)."""
    try:
        os.replace(tmp, full)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


__all__ = ["CONTROL", "NAME_MAX", "PATH_MAX_BYTES", "check", "check_listing", "file_and_folder", "is_git_name",
           "parent", "problem", "replace_with", "shown", "temp_beside"]
