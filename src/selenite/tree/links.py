"""Link text: how a working tree's symlink names a cache object, and the way back.

A file ``data/x.csv`` of a version is the link::

    data/x.csv -> ../.git/selenite/objects/ab/cd/<KEY>/<KEY>

one ``../`` per folder level, then the anchor ``.git/selenite/objects`` (a link to the cache's
``objects/``, never committed), then the object's path below it, where ``ab/cd`` are the first
digits of the key's md5 (``keys.object_relpath``, shared with the cache, which must not import the
tree). The committed text therefore holds no machine path.

One parser (``parse_link_text``) reads such text at any depth; the key in it is matched with the
key grammar of ``keys``. Only the standard library and ``keys`` are imported here: the pre-commit
hook uses this module and must start fast.
"""

from __future__ import annotations

import re
from typing import NamedTuple

from selenite.keys import KEY_PATTERN, Key, object_relpath

ANCHOR = ".git/selenite/objects"  # relative to the top of the working tree
ANCHOR_PREFIX = ANCHOR + "/"

# A regular file at most this large is read to see whether it holds nothing but a link's text
# (a tool that copied the link as text instead of following it).
COPIED_TEXT_MAX = 1024

_TAIL = rf"(?P<ab>[0-9a-f]{{2}})/(?P<cd>[0-9a-f]{{2}})/(?P<name>{KEY_PATTERN})/(?P=name)"
_LINK_RE = re.compile(rf"(?P<up>(?:\.\./)*){re.escape(ANCHOR)}/{_TAIL}\Z")
_TAIL_RE = re.compile(rf"{_TAIL}\Z")


class LinkText(NamedTuple):
    """What a link text names: the key, and how many folder levels (``../``) it climbs first."""

    depth: int
    key: Key


def link_text(path: str, key: Key) -> str:
    """The relative link text for the file ``path`` (relative to the tree top, '/'-separated)."""
    return link_text_of_tail(path, object_relpath(key))


def link_text_of_tail(path: str, tail: str) -> str:
    """``link_text`` of the object at ``tail`` below ``objects/`` (``ab/cd/<KEY>/<KEY>``)."""
    return "../" * path.count("/") + ANCHOR_PREFIX + tail


def _key_of_tail(m: re.Match[str]) -> Key | None:
    """The key of a matched ``ab/cd/<KEY>/<KEY>``, when ``ab/cd`` are the first digits of its md5.
    The name matched the key grammar already: it is split, not parsed again (the hot path of scans)."""
    name = m["name"]
    dashes = name.index("--", 6)
    md5 = name[dashes + 2 : dashes + 34]
    if md5[:2] != m["ab"] or md5[2:4] != m["cd"]:
        return None
    return Key(md5, int(name[6:dashes]), name[dashes + 34 :])


def parse_link_text(text: str) -> LinkText | None:
    """The key a link text names through the anchor, at whatever depth; None for any other text."""
    m = _LINK_RE.match(text)
    if m is None:
        return None
    key = _key_of_tail(m)
    return None if key is None else LinkText(len(m["up"]) // 3, key)


def parse_object_relpath(tail: str) -> Key | None:
    """The key whose object lives at ``tail`` (``ab/cd/<KEY>/<KEY>``) below ``objects/``; else None."""
    m = _TAIL_RE.match(tail)
    return None if m is None else _key_of_tail(m)


def key_from_link(path: str, text: str) -> Key | None:
    """The key a link at ``path`` names, if its text reaches that key's object through this tree's
    anchor; None for anything else (a link leaving the anchor, a foreign link, a link moved to
    another folder depth)."""
    parsed = parse_link_text(text)
    return parsed.key if parsed is not None and parsed.depth == path.count("/") else None


def key_from_copied_text(data: bytes) -> Key | None:
    """The key when a file's bytes are nothing but a link text (a symlink copied as text).

    Any depth counts, not only the one for the file's own path: a tool that copied the link's text
    into a file may have moved it too. Surrounding whitespace (a trailing newline) is ignored.
    """
    if len(data) > COPIED_TEXT_MAX:
        return None
    try:
        text = data.decode("utf-8").strip()
    except UnicodeDecodeError:
        return None
    parsed = parse_link_text(text)
    return None if parsed is None else parsed.key
