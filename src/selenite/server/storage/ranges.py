"""HTTP byte ranges of ``GET /file`` (RFC 9110 §14): the ``Range`` header read into one
:class:`ByteRange`, and that range placed on an object of a known size.

Only single ranges are served. A header that is malformed, names another unit, or asks for several
ranges is ignored, as RFC 9110 allows, and the whole object is sent (200): multipart answers would
cost every backend a second code path for no client selenite knows of.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

# One range: "bytes=a-b", "bytes=a-" or "bytes=-n". 19 digits bound the numbers (no object is
# larger than 2**63 bytes), so a hostile header cannot make huge integers.
_RANGE = re.compile(r"bytes=[ \t]*([0-9]{0,19})-([0-9]{0,19})[ \t]*", re.IGNORECASE)


@dataclass(frozen=True)
class ByteRange:
    """``first-last`` (``last`` None: to the end), or a suffix (``first`` None: the last ``last`` bytes)."""

    first: int | None
    last: int | None

    def span(self, size: int) -> tuple[int, int] | None:
        """The inclusive ``(first, last)`` byte positions this range covers in an object of ``size``
        bytes, or None when it covers none (unsatisfiable: answered 416)."""
        if self.first is None:
            n = self.last or 0
            return (max(0, size - n), size - 1) if n > 0 and size > 0 else None
        if self.first >= size:
            return None
        return self.first, size - 1 if self.last is None else min(self.last, size - 1)

    def header(self) -> str:
        """The range as a ``Range`` header value (what the S3 backend forwards to the store)."""
        return f"bytes={'' if self.first is None else self.first}-{'' if self.last is None else self.last}"


def parse_range(value: str | None) -> ByteRange | None:
    """The one range a ``Range`` header asks for; None for no header or one that is ignored
    (malformed, another unit, several ranges, ``last`` before ``first``)."""
    if value is None:
        return None
    m = _RANGE.fullmatch(value.strip())
    if m is None:
        return None
    first, last = (int(g) if g else None for g in m.groups())
    if first is None and last is None:
        return None
    if first is not None and last is not None and last < first:
        return None
    return ByteRange(first, last)


def content_range(first: int, last: int, size: int) -> str:
    return f"bytes {first}-{last}/{size}"


def window(chunks: Iterator[bytes], skip: int, length: int) -> Iterator[bytes]:
    """``length`` bytes of ``chunks`` after the first ``skip`` (a range cut out of a whole answer)."""
    for block in chunks:
        if skip >= len(block):
            skip -= len(block)
            continue
        part = block[skip : skip + length]
        skip = 0
        length -= len(part)
        if part:
            yield part
        if length <= 0:
            return
