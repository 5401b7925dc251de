"""Manifest validation: every path and name checked before anything is written; where bytes live."""

from __future__ import annotations

import hashlib

import pytest

from selenite.errors import FatalError, UnsafePath
from selenite.keys import Key
from selenite.manifests import parse_manifest


def key_of(data: bytes, ext: str = ".txt") -> Key:
    return Key(hashlib.md5(data).hexdigest(), len(data), ext)


def manifest_entry(data: bytes) -> dict[str, object]:
    return {"md5sum": hashlib.md5(data).hexdigest(), "size": len(data)}


def test_parse_manifest_sources() -> None:
    m = {
        "a.txt": manifest_entry(b"a"),
        "d/b.csv": {**manifest_entry(b"b"), "link": {"project": "p", "asset": "a", "version": "v1", "path": "b.csv"}},
        "c.txt": {**manifest_entry(b"c"), "link": {
            "project": "p", "asset": "a", "version": "v2", "path": "c.txt",
            "ancestor": {"project": "p", "asset": "a", "version": "v0", "path": "z"}}},
    }
    specs = parse_manifest(m, "p", "a", "v3")
    assert specs["a.txt"].source == "p/a/v3/a.txt"
    assert specs["d/b.csv"].source == "p/a/v1/b.csv" and specs["d/b.csv"].key == key_of(b"b", ".csv")
    assert specs["c.txt"].source == "p/a/v0/z"


@pytest.mark.parametrize("bad", ["../x", "/abs", "a/../b", "a\\b", "a//b", "./a", "a/..links", ""])
def test_parse_manifest_refuses_unsafe_paths(bad: str) -> None:
    with pytest.raises(UnsafePath):
        parse_manifest({bad: manifest_entry(b"a")}, "p", "a", "v")


def test_parse_manifest_refuses_bad_entries() -> None:
    with pytest.raises(FatalError):
        parse_manifest({"a": {"md5sum": "nothex", "size": 1}}, "p", "a", "v")
    with pytest.raises(FatalError):
        parse_manifest({"a": {"md5sum": "0" * 32, "size": -1}}, "p", "a", "v")
    with pytest.raises(FatalError, match="file and a folder"):
        parse_manifest({"a": manifest_entry(b"1"), "a/b": manifest_entry(b"2")}, "p", "a", "v")
    with pytest.raises(UnsafePath):
        link = {"project": "..", "asset": "a", "version": "v", "path": "x"}
        parse_manifest({"a": {**manifest_entry(b"1"), "link": link}}, "p", "a", "v")
