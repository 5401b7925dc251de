"""Keys: a file's identity (md5 + size, the registry's own), named the way git-annex names MD5E keys.

``MD5E-s<size>--<md5><ext>``, where ``<ext>`` is at most two trailing suffixes of 1-4 alphanumeric
characters each, taken from the file's name (``.csv``, ``.tar.gz``; nothing otherwise). The extension
is kept so that programs resolving a link still see a meaningful file name.

Every key name that comes from outside (a link's text, a tree file, a manifest) goes through
``parse_key`` — one anchored regular expression — before any path is built from it.
"""

from __future__ import annotations

import functools
import hashlib
import io
import re
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import BinaryIO, NamedTuple

from selenite.errors import ChecksumMismatch, InvalidKey

CHUNK = 1 << 20  # 1 MiB: large enough for disk speed, small enough for flat memory

# The key grammar, in pieces: the one anchored parser below and the link-text parser
# (``tree.links``) are both built from them, so a key is recognised the same way everywhere.
_SIZE = r"0|[1-9][0-9]{0,18}"
_MD5 = r"[0-9a-f]{32}"
_EXT = r"(?:\.[A-Za-z0-9]{1,4}){0,2}"
KEY_PATTERN = rf"MD5E-s(?:{_SIZE})--{_MD5}{_EXT}"
"""A key name as a regular expression without groups or anchors, for embedding in larger patterns."""
_KEY_RE = re.compile(rf"MD5E-s({_SIZE})--({_MD5})({_EXT})\Z")
_MD5_RE = re.compile(rf"{_MD5}\Z")
_EXT_PART_RE = re.compile(r"[A-Za-z0-9]{1,4}\Z")
MAX_EXTENSIONS = 2


class Key(NamedTuple):
    """The identity of one file's content: md5 (lower-case hex), size in bytes, and a name extension."""

    md5: str
    size: int
    ext: str = ""

    @property
    def name(self) -> str:
        """The key name, e.g. ``MD5E-s12--0ab2c121bcf68d7278af266f6a399c5f.csv``."""
        return f"MD5E-s{self.size}--{self.md5}{self.ext}"

    def __str__(self) -> str:
        return self.name

    def content(self) -> tuple[str, int]:
        """What the registry compares: (md5, size); keys differing only by extension share content."""
        return (self.md5, self.size)

    def with_ext(self, ext: str) -> Key:
        return Key(self.md5, self.size, ext)


def object_relpath(key: Key) -> str:
    """``ab/cd/<KEY>/<KEY>``: the object's path below the cache's ``objects/`` (and below a tree's
    anchor). Defined here, beside the key grammar, so the cache and the link text share it."""
    name = key.name
    return f"{key.md5[0:2]}/{key.md5[2:4]}/{name}/{name}"


def parse_key(name: str) -> Key:
    """Validate a key name and return its ``Key``; raise ``InvalidKey`` otherwise."""
    m = _KEY_RE.match(name)
    if m is None:
        raise InvalidKey(f"{name!r} is not a selenite key name (MD5E-s<size>--<md5><ext>)")
    return Key(m.group(2), int(m.group(1)), m.group(3))


def try_parse_key(name: str) -> Key | None:
    """``parse_key`` that answers None instead of raising (for classifying untrusted link text)."""
    m = _KEY_RE.match(name)
    return None if m is None else Key(m.group(2), int(m.group(1)), m.group(3))


_KEY_LINES_RE = re.compile(rf"(?:{KEY_PATTERN}\n)*")


def try_parse_keys(names: Sequence[object]) -> list[Key] | None:
    """``try_parse_key`` of many names at once (a cached listing of 100,000 keys): the whole list is
    checked with one match in C, then each name is split, not parsed again. None when any name
    is not a key name."""
    strs = [n for n in names if isinstance(n, str)]
    text = "".join(n + "\n" for n in strs)
    # A name holding a newline would pass as two lines: the count refuses it (and any non-string).
    if len(strs) != len(names) or text.count("\n") != len(strs) or not _KEY_LINES_RE.fullmatch(text):
        return None
    out = []
    for name in strs:
        dashes = name.index("--", 6)
        out.append(Key(name[dashes + 2 : dashes + 34], int(name[6:dashes]), name[dashes + 34 :]))
    return out


def extension_of(filename: str) -> str:
    """The extension a key keeps for a file name: up to two suffixes of 1-4 alphanumerics.

    Suffixes are taken from the end and the scan stops at the first one that does not qualify, so
    ``a.tar.gz`` -> ``.tar.gz``, ``x.backup`` -> ``""``, ``.bashrc`` -> ``""`` (a dot file has no
    extension), ``v1.2.csv`` -> ``.2.csv``.
    """
    base = filename.rsplit("/", 1)[-1]
    dot = base.find(".")
    if dot < 0:
        return ""
    # It depends only on what follows the stem: asked once per such tail (a manifest of thousands
    # of "*.bin" files asks the same question each time).
    return _extension(base[dot:]) if dot > 0 else _extension(base[1:])


@functools.lru_cache(maxsize=4096)
def _extension(tail: str) -> str:
    """``extension_of`` of a name whose stem is followed by ``tail`` ("." and the suffixes)."""
    suffixes = tail.split(".")[1:]
    kept: list[str] = []
    for suffix in reversed(suffixes):
        if len(kept) == MAX_EXTENSIONS or not _EXT_PART_RE.match(suffix):
            break
        kept.append(suffix)
    # Keep at least something before the extension, so "a.b" keeps ".b" but ".b" alone is no extension.
    return "".join(f".{s}" for s in reversed(kept))


def normalize_md5(md5: str, what: str = "md5sum") -> str:
    """Lower-case hex md5 from a manifest or the user; refuse anything else."""
    if not isinstance(md5, str):
        raise InvalidKey(f"{what} {md5!r} is not a string")
    low = md5.lower()
    if not _MD5_RE.match(low):
        raise InvalidKey(f"{what} {md5!r} is not a 32-digit hexadecimal md5")
    return low


def key_for(md5: str, size: int, filename: str = "") -> Key:
    """The key of content with this md5 and size, for a file called ``filename`` (for its extension)."""
    if not isinstance(size, int) or isinstance(size, bool) or size < 0:
        raise InvalidKey(f"size {size!r} is not a non-negative integer")
    return Key(normalize_md5(md5), size, extension_of(filename))


def iter_chunks(f: BinaryIO, chunk: int = CHUNK) -> Iterator[bytes]:
    while True:
        block = f.read(chunk)
        if not block:
            return
        yield block


class Digest:
    """md5 and size of the bytes seen so far: the client's one streaming hash (ingest, download,
    verify, read back), so every check of bytes against a key is made the same way."""

    def __init__(self) -> None:
        self._h = hashlib.md5(usedforsecurity=False)
        self.size = 0

    def update(self, block: bytes | memoryview) -> None:
        self._h.update(block)
        self.size += len(block)

    def hexdigest(self) -> str:
        return self._h.hexdigest()

    def matches(self, key: Key) -> bool:
        return self.size == key.size and self.hexdigest() == key.md5

    def check(self, key: Key, what: str) -> None:
        """Raise ``ChecksumMismatch`` unless the bytes seen are ``key``'s."""
        check_content(key, self.hexdigest(), self.size, what)

    def passing(self, chunks: Iterable[bytes]) -> Iterator[bytes]:
        """The chunks, unchanged, hashed as they go by."""
        for block in chunks:
            self.update(block)
            yield block

    def read_all(self, f: io.RawIOBase | io.BufferedIOBase) -> Digest:
        """Hash the rest of an open file into one reused buffer (flat memory, no copy per chunk;
        hashlib releases the GIL on it, so threads hash files on every core)."""
        buf = bytearray(CHUNK)
        view = memoryview(buf)
        while n := f.readinto(buf):
            self.update(view[:n])
        return self


def md5_of_file(path: Path) -> tuple[str, int]:
    """(md5 hex, size) of a file, read once."""
    with open(path, "rb", buffering=0) as f:
        d = Digest().read_all(f)
    return d.hexdigest(), d.size


def check_content(key: Key, md5: str, size: int, what: str) -> None:
    """Raise ``ChecksumMismatch`` unless (md5, size) is what ``key`` announces."""
    if size != key.size:
        raise ChecksumMismatch(f"{what}: got {size} bytes, expected {key.size}")
    if md5 != key.md5:
        raise ChecksumMismatch(f"{what}: md5 {md5} does not match the expected {key.md5}")

