"""Conflicts of a `selenite pull` merge in a symlink tree, shown with Git's conflict markers.

In a symlink tree the registry's side of a file is a link into the cache, the user's edited side a
regular file (Git stores it as a pointer). Git cannot merge those: for two links it keeps one, and
for a link against a file it reports "distinct types" and writes the user's side as ``PATH~HEAD``.
Here each such text file gets what a conflict in an ordinary repository gets: the bytes of both
sides (and of the base) merged by ``git merge-file``, conflict markers included, written as a
regular file at PATH, and the index holding the three stages at PATH (so ``git status`` says "both
modified", and ``git add PATH`` after the fix resolves it). Binary content, or content this machine
cannot get, is left as Git left it: nothing is lost either way.
"""

from __future__ import annotations

import os
from pathlib import Path

from selenite import registry, safepath
from selenite.cache import Cache, read_object
from selenite.gitrepo import history as githistory
from selenite.keys import Key
from selenite.transfer import fetch_objects, resolve_sources
from selenite.tree.links import parse_link_text
from selenite.tree.origin import Origin
from selenite.tree.pointers import parse_pointer
from selenite.util import atomic_write, user_file_mode

_SIDE_SUFFIX = "~HEAD"  # where Git puts the user's side of a "distinct types" conflict
_BINARY_SNIFF = 8000  # as Git: a NUL in the first 8000 bytes means binary


def _key_or_bytes(root: Path, mode: str, sha: str) -> Key | bytes:
    blob = githistory.cat_blob(root, sha)
    if mode == githistory.MODE_LINK:
        parsed = parse_link_text(blob.decode("utf-8", "surrogateescape"))
        return parsed.key if parsed is not None else blob
    key = parse_pointer(blob)
    return key if key is not None else blob


def mark_conflicts(root: Path, cache: Cache, client: registry.RegistryClient, o: Origin, theirs_label: str,
                   jobs: int) -> list[str]:
    """Rewrite the unmerged text files of a failed merge with Git's conflict markers; returns the
    paths rewritten."""
    unmerged = githistory.unmerged(root)
    sides: dict[str, tuple[tuple[str, str] | None, tuple[str, str], tuple[str, str], str | None]] = {}
    for path, stages in unmerged.items():
        if 3 not in stages or path.endswith(_SIDE_SUFFIX):
            continue
        moved = path + _SIDE_SUFFIX
        if 2 in stages:
            sides[path] = (stages.get(1), stages[2], stages[3], None)
        elif 2 in unmerged.get(moved, {}):
            sides[path] = (stages.get(1), unmerged[moved][2], stages[3], moved)
    contents = {p: tuple(None if s is None else _key_or_bytes(root, *s) for s in v[:3]) for p, v in sides.items()}
    keys = {k for parts in contents.values() for k in parts if isinstance(k, Key) and not cache.ensure_local(k)}
    if keys:
        fetch_objects(client, cache, resolve_sources(client, cache, o, keys, strict=False), jobs)
    done = []
    for path, parts in contents.items():
        data = [_bytes_of(cache, part) for part in parts]
        if any(d is None or b"\0" in d[:_BINARY_SNIFF] for d in data):
            continue
        base, ours, theirs = (d or b"" for d in data)
        merged = githistory.merge_file(root, ours, base, theirs, ("HEAD", "base", theirs_label))
        if merged is None:
            continue
        ours_stage, moved_side = sides[path][1], sides[path][3]
        full = safepath.parent(root, path)
        if os.path.islink(full):
            os.unlink(full)  # never write through a link into the cache
        atomic_write(full, merged, mode=user_file_mode())
        entries = [(ours_stage[0], ours_stage[1], 2, path)]
        if moved_side is not None:
            entries.append(("0", "0" * len(ours_stage[1]), 0, moved_side))
            with_side = root / moved_side
            if os.path.lexists(with_side):
                os.unlink(with_side)
        githistory.set_index_entries(root, entries)
        done.append(path)
    return done


def _bytes_of(cache: Cache, part: Key | bytes | None) -> bytes | None:
    if part is None:
        return b""  # no base: both sides added the path
    if isinstance(part, bytes):
        return part
    if not cache.has(part):
        return None
    try:
        return b"".join(read_object(cache, part))
    except OSError:
        return None
