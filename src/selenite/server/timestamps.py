"""The protocol's one timestamp format, written and read."""

from __future__ import annotations

import datetime


def iso_ms(t: datetime.datetime) -> str:
    """``Date.toISOString()``: UTC, milliseconds, 'Z' (what gypsum_client's date parser expects).
    Change logs are named by it, so their names sort in time order."""
    return t.astimezone(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def now_iso() -> str:
    """:func:`iso_ms` of now."""
    return iso_ms(datetime.datetime.now(datetime.UTC))


def parse_time(value: object) -> float | None:
    """Seconds since the epoch of an ISO-8601 string, or None when it is not one."""
    if not isinstance(value, str):
        return None
    try:
        t = datetime.datetime.fromisoformat(value)
    except ValueError:
        return None
    if t.tzinfo is None:  # Date.parse reads a date-time without offset as local time: UTC on Workers
        t = t.replace(tzinfo=datetime.UTC)
    return t.timestamp()
