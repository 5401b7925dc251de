"""Judging one path of the tree by its link text (or, for a regular file, by its bytes).

A link into the cache reads ``../`` per folder level, the anchor, then ``ab/cd/<KEY>/<KEY>`` (``ab/cd``:
the md5's first digits). One regexp match per link on the hot path; the key name is validated with
``keys.try_parse_key`` (in ``objects.settle``) before it is trusted.
"""

from __future__ import annotations

import os
import posixpath
import re
import stat

from selenite.check.objects import ANCHOR
from selenite.check.problems import Problem, ProblemKind
from selenite.gitrepo import blob_id, id_algo
from selenite.gitrepo.listings import LINK_MODE, IndexEntry, Staged
from selenite.keys import Key, try_parse_key

_ANCHOR_PREFIX = ANCHOR + "/"
# Text a tool may leave in a regular file when it copied a link instead of its content.
_LINK_TEXT_RE = re.compile(rb"(?:\.\./)*\.git/selenite/objects/[0-9a-f]{2}/[0-9a-f]{2}/([^/\s]+)/([^/\s]+)\s*\Z")
_FAST_LINK_RE = re.compile(
    r"((?:\.\./)*)\.git/selenite/objects/([0-9a-f]{2})/([0-9a-f]{2})/(MD5E-s[0-9]+--\2\3[0-9a-f]{28}[A-Za-z0-9.]*)/\4\Z"
)
_OBJECT_TAIL_RE = re.compile(r"([0-9a-f]{2})/([0-9a-f]{2})/(MD5E-s[0-9]+--\1\2[0-9a-f]{28}[A-Za-z0-9.]*)/\3\Z")
_MAX_LINK_TEXT = 4096  # PATH_MAX: a file larger than this cannot be a link's text


def object_tail(name: str) -> str:
    """``ab/cd/<KEY>/<KEY>`` for a key name already matched by the link regexps."""
    md5 = name[name.index("--") + 2:][:32]
    return f"{md5[0:2]}/{md5[2:4]}/{name}/{name}"


def link_key(rel: str, text: str) -> tuple[str | None, Problem | None]:
    """(key name, None) for a link to a cache object through this tree's anchor; (None, problem)
    for a link that must not be committed as it is; (None, None) for an ordinary in-tree link."""
    m = _FAST_LINK_RE.match(text)
    if m is not None and len(m.group(1)) == 3 * rel.count("/"):
        return m.group(4), None
    if m is not None:
        # A link moved to another folder depth (`git mv a/x.csv x.csv`): its relative text names
        # an object but no longer reaches the anchor. Not an error: `fix_moved_links` rewrites it.
        moved = f"link moved to another folder depth; its text no longer reaches {ANCHOR}"
        return None, Problem(rel, ProblemKind.MOVED, moved)
    name, why = _classify_link(rel, text)
    return name, None if why is None else Problem(rel, ProblemKind.OUTSIDE, why)


def moved_link_key(text: str) -> Key | None:
    """The key a link text names through the anchor at any depth (what a moved link still names)."""
    m = _FAST_LINK_RE.match(text)
    return None if m is None else try_parse_key(m.group(4))


def _holds_only(data: bytes, sha: str) -> bool:
    """Whether a file's bytes are exactly the link text Git stored as blob ``sha`` (a newline aside)."""
    return any(blob_id(d, id_algo(sha)) == sha for d in {data, data.rstrip(b"\r\n")})


def _classify_link(rel: str, text: str) -> tuple[str | None, str | None]:
    """(key name, None) for a link to a cache object through the anchor; (None, why) for a link that
    must not be committed; (None, None) for an ordinary in-tree link (its target is committed too)."""
    if text.startswith("/"):
        return None, f"absolute link to {text} (a machine path); links into the cache go through {ANCHOR}"
    target = posixpath.normpath(posixpath.join(posixpath.dirname(rel), text))
    if target == ".." or target.startswith("../"):
        return None, f"link leaves the working tree (-> {text})"
    if target.startswith(_ANCHOR_PREFIX):
        m = _OBJECT_TAIL_RE.match(target, len(_ANCHOR_PREFIX))
        if m is not None:
            return m.group(3), None
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
    m = _LINK_TEXT_RE.match(data)
    names_a_key = m is not None and m.group(1) == m.group(2) and try_parse_key(os.fsdecode(m.group(1))) is not None
    if names_a_key or any(_holds_only(data, s) for s in shas):
        return Problem(rel, ProblemKind.DESTROYED, _destroyed_msg(os.fsdecode(data.strip())))
    return None


def _destroyed_msg(text: str | None) -> str:
    shown = f" ({text})" if text else ""
    return f"a regular file holding only the text of a link{shown}: a tool copied the link instead of its content"
