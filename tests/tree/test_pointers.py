"""The pointer Git stores for a data file: written, read back, and nothing else taken for one."""

from __future__ import annotations

from pathlib import Path

from selenite.tree.pointers import MAX_POINTER, parse_pointer, pointer, read_pointer_file
from tests.tree.conftest import key_of


def test_pointer_round_trip(tmp_path: Path) -> None:
    k = key_of(b"content", ".csv")
    data = pointer(k)
    assert data == f"selenite-pointer {k.name}\n".encode() and len(data) <= MAX_POINTER
    assert parse_pointer(data) == k
    (tmp_path / "p").write_bytes(data)
    assert read_pointer_file(tmp_path / "p") == k


def test_what_is_not_a_pointer(tmp_path: Path) -> None:
    k = key_of(b"content")
    for data in (pointer(k)[:-1], pointer(k) + b"\n", b"selenite-pointer MD5E-s1--nothex\n", b"data", b""):
        assert parse_pointer(data) is None, data
    (tmp_path / "big").write_bytes(pointer(k) + b" " * MAX_POINTER)
    assert read_pointer_file(tmp_path / "big") is None
    (tmp_path / "link").symlink_to("big")
    assert read_pointer_file(tmp_path / "link") is None
    assert read_pointer_file(tmp_path / "absent") is None
