"""Pointers: the one line Git stores for a data file instead of its bytes.

::

    selenite-pointer MD5E-s3145728--0123456789abcdef0123456789abcdef.bin

The clean filter (``gitfilter``) writes them into Git; a tree checked out without the filter holds
them as files until ``selenite get`` fills them. Only the standard library and ``keys`` are
imported here: the filter process starts for every git command that reads or writes files.
"""

from __future__ import annotations

import os
import re
import stat
from pathlib import Path

from selenite.keys import Key, try_parse_key

_PREFIX = b"selenite-pointer "
_POINTER_RE = re.compile(rb"selenite-pointer (MD5E-[0-9A-Za-z.-]{1,120})\n\Z")
MAX_POINTER = 192  # longer than any pointer: bigger content is data, never a pointer


def pointer(key: Key) -> bytes:
    return _PREFIX + key.name.encode() + b"\n"


def parse_pointer(data: bytes) -> Key | None:
    """The key a pointer names; None for anything else (data, a damaged pointer)."""
    if len(data) > MAX_POINTER or not data.startswith(_PREFIX):
        return None
    m = _POINTER_RE.match(data)
    return try_parse_key(m.group(1).decode()) if m else None


def read_pointer_file(path: Path) -> Key | None:
    """The key when ``path`` is a regular file holding exactly a pointer (not filled yet)."""
    try:
        st = os.lstat(path)
        if not stat.S_ISREG(st.st_mode) or st.st_size > MAX_POINTER:
            return None
        with open(path, "rb") as f:
            return parse_pointer(f.read(MAX_POINTER + 1))
    except OSError:
        return None
