"""The one exception a handler raises to refuse a request: an HTTP status and gypsum's ``reason``."""

from __future__ import annotations


class HttpError(Exception):
    """Answered as ``{"status": "error", "reason": reason}`` with ``status`` (always 4xx/5xx)."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        assert 400 <= status <= 599, "errors always carry an error status (no '200 quirk')"
        self.status = status
        self.reason = reason
