"""Usage, quota and an asset's latest version (server/usage.py, server/latest.py), on a folder storage."""

from __future__ import annotations

import datetime
import json
from pathlib import Path

from selenite.server.jsonfiles import write_json
from selenite.server.keyspace import latest_key, summary_key, usage_key
from selenite.server.latest import is_newer_than_latest, recompute_latest
from selenite.server.storage.folder import FolderStorage
from selenite.server.usage import add_usage, compute_quota, count_usage, user_bytes


def test_usage_counts_user_files_only_and_never_goes_below_zero(tmp_path: Path) -> None:
    storage = FolderStorage(tmp_path / "r")
    storage.put_bytes("p/a/v1/x.txt", b"12345")
    storage.put_bytes("p/a/v1/..summary", b"{}")
    assert count_usage(storage, "p") == 5
    assert user_bytes({"p/a/v1/x.txt": 5, "p/a/v1/..manifest": 99}) == 5
    add_usage(storage, "p", 10)  # no ..usage yet: nothing to change
    assert storage.get_bytes(usage_key("p")) is None
    write_json(storage, usage_key("p"), {"total": 3})
    add_usage(storage, "p", -10)
    assert json.loads(storage.get_bytes(usage_key("p")) or b"") == {"total": 0}


def test_quota_grows_by_year() -> None:
    year = datetime.datetime.now(datetime.UTC).year
    assert compute_quota({"baseline": 10, "growth_rate": 5, "year": year - 2}) == 20.0


def _version(storage: FolderStorage, v: str, finish: str | None, probation: bool = False) -> None:
    summary: dict[str, object] = {"upload_start": "2026-01-01T00:00:00.000Z"}
    if finish:
        summary["upload_finish"] = finish
    if probation:
        summary["on_probation"] = True
    write_json(storage, summary_key("p", "a", v), summary)


def test_latest_is_the_newest_finished_official_version(tmp_path: Path) -> None:
    storage = FolderStorage(tmp_path / "r")
    _version(storage, "v1", "2026-01-02T00:00:00.000Z")
    _version(storage, "v2", "2026-01-03T00:00:00.000Z")
    _version(storage, "v3", "2026-01-04T00:00:00.000Z", probation=True)
    _version(storage, "v4", None)  # unfinished
    assert recompute_latest(storage, "p", "a") == "v2"
    assert json.loads(storage.get_bytes(latest_key("p", "a")) or b"") == {"version": "v2"}
    assert is_newer_than_latest(storage, "p", "a", {"upload_finish": "2026-01-04T00:00:00.000Z"})
    assert not is_newer_than_latest(storage, "p", "a", {"upload_finish": "2026-01-01T00:00:00.000Z"})
    for v in ("v1", "v2"):
        storage.delete_prefix(f"p/a/{v}/")
    assert recompute_latest(storage, "p", "a") is None
    assert storage.get_bytes(latest_key("p", "a")) is None
    assert is_newer_than_latest(storage, "p", "a", {"upload_finish": "2026-01-01T00:00:00.000Z"})
