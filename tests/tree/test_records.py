"""A hardlink/copy tree's record, its placed state, and which files it counts as data."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from selenite import gitrepo
from selenite.errors import FatalError
from selenite.tree import records
from tests.tree.conftest import key_of


def test_record_round_trip_and_validation(tmp_path: Path) -> None:
    files = {"b.csv": key_of(b"b", ".csv"), "a/x": key_of(b"x")}
    (tmp_path / ".selenite").mkdir()
    records.write_record(tmp_path, "hardlink", files)
    text = (tmp_path / records.RECORD).read_text()
    assert list(json.loads(text)["files"]) == ["a/x", "b.csv"]  # sorted: a readable diff
    rec = records.read_record(tmp_path)
    assert rec is not None and rec.mode == "hardlink" and rec.files == files
    assert records.has_record(tmp_path)
    for bad in (b"not json", b'{"mode": "symlink", "files": {}}', b'{"mode": "copy", "files": {"a": "nokey"}}',
                b'{"mode": "copy", "files": {"../x": "MD5E-s0--d41d8cd98f00b204e9800998ecf8427e"}}'):
        with pytest.raises(FatalError):
            records.parse_record(bad, records.RECORD)


def test_record_mode_prefers_the_local_config(tmp_path: Path) -> None:
    gitrepo.init(tmp_path)
    records.write_record(tmp_path, "copy", {})
    assert records.record_mode(tmp_path) == "copy"
    gitrepo.config_set(tmp_path, "selenite.linkmode", "hardlink")
    assert records.record_mode(tmp_path) == "hardlink"
    gitrepo.config_set(tmp_path, "selenite.linkmode", "symlink")  # not a record mode: the record's
    assert records.record_mode(tmp_path) == "copy"


def test_data_files_ignore_only_by_the_users_ignore_files(tmp_path: Path) -> None:
    root = tmp_path / "t"
    root.mkdir()
    gitrepo.init(root)
    records.start_tree(root, "copy", {})
    for name in ("a.csv", "b.tmp", "c.log", ".gitignore"):
        (root / name).write_text(name)
    (root / ".gitignore").write_text("*.tmp\n")
    assert sorted(records.data_files(root)) == [".gitignore", "a.csv", "c.log"]  # info/exclude not applied
    global_ignore = Path(gitrepo.config_get(root, "core.excludesFile") or tmp_path / "global-ignore")
    global_ignore.write_text("*.log\n")
    gitrepo.config_set(root, "core.excludesFile", str(global_ignore))
    assert sorted(records.data_files(root)) == [".gitignore", "a.csv"]
    assert records.data_files(root, ["a.csv"]) == ["a.csv"]


def test_placed_and_out_of_sync(tmp_path: Path) -> None:
    gitrepo.init(tmp_path)
    files = {"a": key_of(b"a"), "b": key_of(b"b")}
    records.write_record(tmp_path, "copy", files)
    assert records.read_placed(tmp_path) is None and not records.out_of_sync(tmp_path)
    (tmp_path / "a").write_bytes(b"a")
    records.write_placed(tmp_path, files)
    placed = records.read_placed(tmp_path)
    assert placed is not None and placed.pending == frozenset({"b"})
    records.require_in_sync(tmp_path)
    records.write_record(tmp_path, "copy", {"a": files["a"]})
    assert records.out_of_sync(tmp_path)
    with pytest.raises(FatalError, match="run `selenite get` first"):
        records.require_in_sync(tmp_path)
