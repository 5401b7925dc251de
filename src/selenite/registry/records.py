"""The batched answer of ``POST /_selenite/objects`` (a selenite registry's extra): a JSON header
line ``{"key", "size"}``, then that many bytes, repeated; size -1 for an absent key."""

from __future__ import annotations

import json
from collections.abc import Iterator

from selenite.errors import RegistryError

BATCH_RECORD_MAX = 16 << 20  # a batched record when the caller gives no expected size
_HEADER_MAX = 65536


class Records:
    """Reads the records off the answer's chunks, keeping only what is not read yet."""

    def __init__(self, chunks: Iterator[bytes]) -> None:
        self._chunks = chunks
        self._buf = bytearray()
        self._pos = 0

    def _more(self) -> None:
        block = next(self._chunks, b"")
        if not block:
            raise RegistryError("registry's batched answer ended early")
        if self._pos:  # drop what was read (in place: appending stays linear in the bytes received)
            del self._buf[: self._pos]
            self._pos = 0
        self._buf += block

    def header(self) -> tuple[str, int]:
        """The next record's (key, size); size -1 when the registry has no such key."""
        while (nl := self._buf.find(b"\n", self._pos)) < 0:
            if len(self._buf) - self._pos > _HEADER_MAX:
                raise RegistryError("registry sent a malformed batched answer")
            self._more()
        line, self._pos = self._buf[self._pos : nl], nl + 1
        try:
            head = json.loads(line)
            key, size = head["key"], head["size"]
        except (ValueError, KeyError, TypeError):
            raise RegistryError("registry sent a malformed batched answer") from None
        if not isinstance(key, str) or not isinstance(size, int) or isinstance(size, bool) or size < -1:
            raise RegistryError("registry sent a malformed batched answer")
        return key, size

    def read(self, n: int) -> bytes:
        """The next ``n`` bytes (a record's body)."""
        while len(self._buf) - self._pos < n:
            self._more()
        data, self._pos = bytes(self._buf[self._pos : self._pos + n]), self._pos + n
        return data
