"""Files Git itself reads from the working tree: in every tree they stay regular files.

Git reads ``.gitignore``, ``.gitattributes`` and ``.mailmap`` only as regular files (since 2.32 it
refuses to follow them when they are symlinks: "too many levels of symbolic links", and the ignore
rules silently stop working), and ``.gitmodules`` likewise. In a dataset they are still data, listed
and published by push like any file; but clone and push never turn them into links into the cache,
and the clean filter (``gitfilter``) never stores them as pointers: Git needs their bytes.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from selenite.cache import Cache
    from selenite.keys import Key

NAMES = (".gitignore", ".gitattributes", ".gitmodules", ".mailmap")


def read_by_git(path: str) -> bool:
    """Whether Git reads the file at ``path`` (relative, '/'-separated) itself, at any depth."""
    return path.rsplit("/", 1)[-1] in NAMES


def place_copies(root: Path, cache: Cache, listing: Mapping[str, Key]) -> int:
    """Write each file Git reads among ``listing`` as a regular, writable copy of its object (in
    place of a link, e.g. one an older selenite made); return how many were written. Never through
    a symlinked folder (``safepath.parent``)."""
    # The filter process and the pre-commit hook import this module for ``read_by_git`` on every
    # Git operation: the cache (sqlite) and file writing are loaded only when copies are placed.
    from selenite import safepath  # noqa: PLC0415
    from selenite.cache import read_object  # noqa: PLC0415
    from selenite.util import atomic_write_chunks, user_file_mode  # noqa: PLC0415

    n = 0
    for path, key in listing.items():
        if read_by_git(path):
            atomic_write_chunks(safepath.parent(root, path), read_object(cache, key), user_file_mode())
            n += 1
    return n
