"""Judging one path of the tree by its link text (or, for a regular file, by its bytes).

A link into the cache reads ``../`` per folder level, the anchor, then ``ab/cd/<KEY>/<KEY>``
(``tree.links``, which parses it with the key grammar of ``keys``).
"""

from __future__ import annotations

import os
import posixpath
import stat

from selenite.check.problems import Problem, ProblemKind
from selenite.gitrepo import blob_id, id_algo
from selenite.gitrepo.listings import LINK_MODE, IndexEntry, Staged
from selenite.keys import Key
from selenite.tree.links import ANCHOR, ANCHOR_PREFIX, key_from_copied_text, parse_link_text, parse_object_relpath

_MAX_LINK_TEXT = 4096  # PATH_MAX: a file larger than this cannot be a link's text


def link_key(rel: str, text: str) -> tuple[Key | None, Problem | None]:
    """(key, None) for a link to a cache object through this tree's anchor; (None, problem) for a
    link that must not be committed as it is; (None, None) for an ordinary in-tree link."""
    parsed = parse_link_text(text)
    if parsed is not None and parsed.depth == rel.count("/"):
        return parsed.key, None
    if parsed is not None:
        # A link moved to another folder depth (`git mv a/x.csv x.csv`): its relative text names
        # an object but no longer reaches the anchor. Not an error: `fix_moved_links` rewrites it.
        moved = f"link moved to another folder depth; its text no longer reaches {ANCHOR}"
        return None, Problem(rel, ProblemKind.MOVED, moved)
    key, why = _classify_link(rel, text)
    return key, None if why is None else Problem(rel, ProblemKind.OUTSIDE, why)


def _holds_only(data: bytes, sha: str) -> bool:
    """Whether a file's bytes are exactly the link text Git stored as blob ``sha`` (a newline aside)."""
    return any(blob_id(d, id_algo(sha)) == sha for d in {data, data.rstrip(b"\r\n")})


def _classify_link(rel: str, text: str) -> tuple[Key | None, str | None]:
    """(key, None) for a link to a cache object through the anchor; (None, why) for a link that
    must not be committed; (None, None) for an ordinary in-tree link (its target is committed too)."""
    if text.startswith("/"):
        return None, f"absolute link to {text} (a machine path); links into the cache go through {ANCHOR}"
    target = posixpath.normpath(posixpath.join(posixpath.dirname(rel), text))
    if target == ".." or target.startswith("../"):
        return None, f"link leaves the working tree (-> {text})"
    if target.startswith(ANCHOR_PREFIX):
        key = parse_object_relpath(target[len(ANCHOR_PREFIX):])
        if key is not None:
            return key, None
        return None, f"link into the cache anchor that names no object (-> {text})"
    if target == ".git" or target.startswith(".git/"):
        return None, f"link into the repository's .git folder (-> {text})"
    return None, None


def destroyed(full: str, rel: str, entry: IndexEntry | None, change: Staged | None) -> Problem | None:
    """A regular file holding nothing but a link's text: the link Git has for it, or any cache link."""
    if change is not None and change.old_mode == LINK_MODE and change.new_mode.startswith("100") \
            and change.new_sha == change.old_sha:
        return Problem(rel, ProblemKind.DESTROYED, _destroyed_msg(None))
    shas = [s for s in ((entry.sha if entry and entry.mode == LINK_MODE else None),
                        (change.old_sha if change and change.old_mode == LINK_MODE else None)) if s]
    # Any link text fits in PATH_MAX; a text into the anchor is much shorter (a new file, e.g. one
    # of thousands of small untracked CSVs, is only read when it could be one).
    limit = _MAX_LINK_TEXT if shas else 3 * rel.count("/") + 256
    try:
        st = os.lstat(full)
        if not stat.S_ISREG(st.st_mode) or st.st_size > limit:
            return None
        with open(full, "rb") as f:
            data = f.read(limit + 1)
    except OSError:
        return None
    if key_from_copied_text(data) is not None or any(_holds_only(data, s) for s in shas):
        return Problem(rel, ProblemKind.DESTROYED, _destroyed_msg(os.fsdecode(data.strip())))
    return None


def _destroyed_msg(text: str | None) -> str:
    shown = f" ({text})" if text else ""
    return f"a regular file holding only the text of a link{shown}: a tool copied the link instead of its content"
