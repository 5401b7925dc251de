"""util: atomic writes, and the marked blocks selenite keeps in the user's git files."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from selenite.util import (
    atomic_write,
    atomic_write_chunks,
    fsync_dir,
    has_marked_block,
    user_file_mode,
    write_marked_block,
)

BEGIN, END = "# >>> selenite", "# <<< selenite"


def test_atomic_write_replaces_the_file_whole_with_its_mode(tmp_path: Path) -> None:
    path = tmp_path / "sub" / ("n" * 250)
    atomic_write(path, b"first", mode=0o600)
    atomic_write_chunks(path, iter([b"sec", b"ond"]))
    assert path.read_bytes() == b"second" and stat.S_IMODE(path.stat().st_mode) == 0o644
    assert os.listdir(path.parent) == [path.name]


def test_a_failure_part_way_leaves_the_old_file_and_no_temporary(tmp_path: Path) -> None:
    path = tmp_path / "f"
    path.write_bytes(b"old")

    def chunks() -> Iterator[bytes]:
        yield b"new bytes"
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        atomic_write_chunks(path, chunks())
    assert path.read_bytes() == b"old" and os.listdir(tmp_path) == ["f"]


def test_fsync_dir_of_a_missing_folder_is_harmless(tmp_path: Path) -> None:
    fsync_dir(tmp_path / "gone")
    fsync_dir(tmp_path)


def test_marked_blocks_keep_the_users_lines_and_are_written_once(tmp_path: Path) -> None:
    path = tmp_path / "info" / "exclude"
    assert not has_marked_block(path, BEGIN, END, ["a"])
    write_marked_block(path, BEGIN, END, ["a"])
    with path.open("a") as f:
        f.write("mine\n")
    mtime = path.stat().st_mtime_ns
    write_marked_block(path, BEGIN, END, ["a"])  # already there: not rewritten
    assert path.stat().st_mtime_ns == mtime
    write_marked_block(path, BEGIN, END, ["b", "c"])  # an older block is replaced
    assert path.read_text().splitlines() == ["mine", BEGIN, "b", "c", END]
    assert has_marked_block(path, BEGIN, END, ["b", "c"]) and not has_marked_block(path, BEGIN, END, ["b"])


def test_a_users_new_file_mode_follows_the_umask() -> None:
    old = os.umask(0o027)
    try:
        assert user_file_mode() == 0o640
    finally:
        os.umask(old)
