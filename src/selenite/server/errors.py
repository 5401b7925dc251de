"""Every exception the server defines, in one place.

Names differ from the client's (``selenite.errors``): the two sides never share an exception, and
the server never raises the CLI's ``FatalError``. The command line translates :class:`SetupError`
(the only error meant for a terminal) into its own one-line message.
"""

from __future__ import annotations


class HttpError(Exception):
    """Answered as ``{"status": "error", "reason": reason}`` with ``status`` (always 4xx/5xx)."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        assert 400 <= status <= 599, "errors always carry an error status (no '200 quirk')"
        self.status = status
        self.reason = reason


class SetupError(ValueError):
    """What an operator asked for cannot be done: a malformed ``--storage`` URL, an S3 bucket that
    does not answer, a bad user name for a token. ``selenite serve``/``token`` print it as one line."""


class StorageError(Exception):
    """Base of the errors a storage backend raises on purpose."""


class BadStorageKey(StorageError, ValueError):
    """A key (or prefix, or state name) that could escape its area or that no backend can store.
    Answered as a 400 (``app``); never the client's ``InvalidKey``, which is about cache keys."""


class RangeNotSatisfiable(StorageError):
    """A byte range that covers no byte of the object (``GET /file`` answers 416 with its size)."""

    def __init__(self, key: str, size: int) -> None:
        super().__init__(f"no byte of the requested range lies within '{key}' ({size} bytes)")
        self.size = size


class DigestMismatch(StorageError):
    """``put_stream`` received bytes whose md5 differs from the declared one; nothing was stored."""

    def __init__(self, key: str, expected: str, actual: str) -> None:
        super().__init__(f"md5 of the bytes sent for '{key}' is {actual}, not the declared {expected}")
        self.key, self.expected, self.actual = key, expected, actual
