"""Files Git itself reads from the working tree: in every tree they stay regular files.

Git reads ``.gitignore``, ``.gitattributes`` and ``.mailmap`` only as regular files (since 2.32 it
refuses to follow them when they are symlinks: "too many levels of symbolic links", and the ignore
rules silently stop working), and ``.gitmodules`` likewise. In a dataset they are still data, listed
and published by push like any file; but clone and push never turn them into links into the cache,
and the clean filter (``gitfilter``) never stores them as pointers: Git needs their bytes.
"""

from __future__ import annotations

NAMES = (".gitignore", ".gitattributes", ".gitmodules", ".mailmap")


def read_by_git(path: str) -> bool:
    """Whether Git reads the file at ``path`` (relative, '/'-separated) itself, at any depth."""
    return path.rsplit("/", 1)[-1] in NAMES
