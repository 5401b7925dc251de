"""Change logs under ..logs/ and their hourly prune (server/changelog.py), on a folder storage."""

from __future__ import annotations

import datetime
import json
from pathlib import Path

import pytest

from selenite.server import changelog
from selenite.server.changelog import LOG_RETENTION, PruneSchedule, add_log, prune_logs
from selenite.server.storage.folder import FolderStorage
from selenite.server.timestamps import iso_ms


def test_the_schedule_is_due_at_first_then_once_an_hour(monkeypatch: pytest.MonkeyPatch) -> None:
    clock = [100.0]  # a machine up for less than an hour still prunes at its first change
    monkeypatch.setattr(changelog.time, "monotonic", lambda: clock[0])
    schedule = PruneSchedule()
    assert schedule.due()
    assert not schedule.due()
    clock[0] += changelog.PRUNE_EVERY - 1
    assert not schedule.due()
    clock[0] += 1
    assert schedule.due()


def test_add_log_appends_entries_and_prunes_those_past_retention(tmp_path: Path) -> None:
    storage = FolderStorage(tmp_path / "r")
    old = iso_ms(datetime.datetime.now(datetime.UTC) - LOG_RETENTION - datetime.timedelta(minutes=1))
    storage.put_bytes(f"..logs/{old}_123456", b"{}")
    schedule = PruneSchedule()
    add_log(storage, schedule, {"type": "delete-project", "project": "p"})
    add_log(storage, schedule, {"type": "delete-project", "project": "q"})  # not due: nothing pruned
    keys = [k for k, _ in storage.list_recursive("..logs/")]
    assert len(keys) == 2 and all(k > f"..logs/{old}" for k in keys)
    assert sorted(json.loads(storage.get_bytes(k) or b"")["project"] for k in keys) == ["p", "q"]
    assert prune_logs(storage) == 0  # both are fresh
