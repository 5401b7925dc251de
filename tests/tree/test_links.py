"""Link text: written and read back at every depth; anything else is not a link into the cache."""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from selenite.keys import Key, object_relpath
from selenite.tree.links import (
    ANCHOR,
    COPIED_TEXT_MAX,
    LinkText,
    key_from_copied_text,
    key_from_link,
    link_text,
    parse_link_text,
    parse_object_relpath,
)


def key_of(data: bytes, ext: str = ".txt") -> Key:
    return Key(hashlib.md5(data).hexdigest(), len(data), ext)


def test_link_text_round_trip() -> None:
    k = key_of(b"x")
    assert link_text("a.txt", k) == ANCHOR + "/" + object_relpath(k)
    assert link_text("d/e/a.txt", k).startswith("../../.git/selenite/objects/")
    for path in ("a.txt", "d/a.txt", "d/e/f/a.txt"):
        assert key_from_link(path, link_text(path, k)) == k
    assert key_from_link("d/a.txt", link_text("a.txt", k)) is None  # wrong depth
    assert key_from_link("a.txt", "/etc/passwd") is None
    assert key_from_link("a.txt", "../../outside/" + k.name) is None


@given(depth=st.integers(0, 40), data=st.binary(max_size=8), ext=st.sampled_from(["", ".csv", ".tar.gz"]))
def test_parse_link_text_any_depth(depth: int, data: bytes, ext: str) -> None:
    k = key_of(data, ext)
    path = "d/" * depth + "f"
    assert parse_link_text(link_text(path, k)) == LinkText(depth, k)


@pytest.mark.parametrize("mangle", [
    lambda t: "/" + t,  # absolute
    lambda t: "x/" + t,  # not only ../ before the anchor
    lambda t: t + "/",
    lambda t: t[:-1],  # the two key names differ
    lambda t: t.replace("/objects/", "/object/"),
    lambda t: t.replace(".txt", ".toolong"),  # not the key grammar
    lambda t: t.replace("MD5E-s1--", "MD5E-s01--"),
    lambda t: "./" + t,
])
def test_parse_link_text_refuses(mangle: object) -> None:
    text = link_text("d/a.txt", key_of(b"x"))
    assert parse_link_text(mangle(text)) is None  # type: ignore[operator]


def test_object_dirs_must_be_the_md5s() -> None:
    k = key_of(b"x")
    good = object_relpath(k)
    bad = ("00/00" if not good.startswith("00/00") else "11/11") + good[5:]
    assert parse_object_relpath(good) == k
    assert parse_object_relpath(bad) is None
    assert parse_link_text(ANCHOR + "/" + bad) is None


def test_copied_text_detection() -> None:
    k = key_of(b"x")
    assert key_from_copied_text(link_text("d/a.txt", k).encode()) == k
    assert key_from_copied_text((link_text("a.txt", k) + "\n").encode()) == k
    assert key_from_copied_text(link_text("a/b/c.txt", k).encode()) == k  # moved: still names the key
    assert key_from_copied_text(b"just data") is None
    assert key_from_copied_text(("x/" + link_text("a.txt", k)).encode()) is None
    assert key_from_copied_text(b"\xff" + link_text("a.txt", k).encode()) is None
    assert key_from_copied_text(("../" * COPIED_TEXT_MAX + link_text("a.txt", k)).encode()) is None
