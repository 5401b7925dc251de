"""The protocol's one timestamp format (server/timestamps.py)."""

from __future__ import annotations

import datetime
import re

from selenite.server.timestamps import iso_ms, now_iso, parse_time


def test_iso_ms_is_javascript_toisostring() -> None:
    t = datetime.datetime(2026, 3, 4, 5, 6, 7, 891234, tzinfo=datetime.UTC)
    assert iso_ms(t) == "2026-03-04T05:06:07.891Z"
    # another zone is written in UTC, so names built from it sort in time order
    plus_two = datetime.timezone(datetime.timedelta(hours=2))
    assert iso_ms(t.astimezone(plus_two)) == "2026-03-04T05:06:07.891Z"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", now_iso())


def test_parse_time_reads_what_iso_ms_writes_and_refuses_the_rest() -> None:
    t = datetime.datetime(2026, 3, 4, 5, 6, 7, 891000, tzinfo=datetime.UTC)
    assert parse_time(iso_ms(t)) == t.timestamp()
    assert parse_time("2026-03-04T05:06:07") == datetime.datetime(2026, 3, 4, 5, 6, 7, tzinfo=datetime.UTC).timestamp()
    assert parse_time("2026-03-04T07:06:07+02:00") == parse_time("2026-03-04T05:06:07Z")
    for bad in ("yesterday", "", None, 1700000000, ["2026-03-04"]):
        assert parse_time(bad) is None
