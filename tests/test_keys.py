"""Key names: parsing is strict (nothing but a valid key ever becomes a path), extensions as git-annex."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from selenite.errors import ChecksumMismatch, InvalidKey
from selenite.keys import (
    KEY_PATTERN,
    Digest,
    Key,
    extension_of,
    key_for,
    md5_of_file,
    normalize_md5,
    object_relpath,
    parse_key,
    try_parse_key,
)

MD5 = hashlib.md5(b"hello").hexdigest()


def test_name_round_trips() -> None:
    k = Key(MD5, 5, ".csv")
    assert k.name == f"MD5E-s5--{MD5}.csv"
    assert parse_key(k.name) == k
    assert parse_key(f"MD5E-s0--{MD5}") == Key(MD5, 0, "")


@pytest.mark.parametrize(
    "bad",
    [
        f"MD5E-s5--{MD5}/../x",
        f"MD5E-s5--{MD5}.csv/",
        f"MD5E-s05--{MD5}",  # leading zero: two names for one key
        f"MD5E-s5--{MD5.upper()}",
        f"MD5E-s5--{MD5[:-1]}",
        f"MD5E-s-1--{MD5}",
        f"MD5E-s5--{MD5}.toolong",
        f"MD5E-s5--{MD5}.a.b.c",
        f"../MD5E-s5--{MD5}",
        f"MD5E-s5--{MD5}\n",
        "",
    ],
)
def test_parse_refuses(bad: str) -> None:
    with pytest.raises(InvalidKey):
        parse_key(bad)
    assert try_parse_key(bad) is None


@pytest.mark.parametrize(
    ("name", "ext"),
    [
        ("x.csv", ".csv"), ("dir/a.tar.gz", ".tar.gz"), ("a.b.c.d", ".c.d"), ("x.backup", ""),
        (".bashrc", ""), ("noext", ""), ("v1.2.csv", ".2.csv"), ("weird.c-d", ""), ("a.", ""),
    ],
)
def test_extension_of(name: str, ext: str) -> None:
    assert extension_of(name) == ext


@given(st.text(min_size=1, max_size=40).filter(lambda s: "/" not in s))
def test_any_file_name_gives_a_parsable_key(name: str) -> None:
    k = key_for(MD5, 7, name)
    assert parse_key(k.name) == k


def test_md5_normalized_and_checked() -> None:
    assert normalize_md5(MD5.upper()) == MD5
    with pytest.raises(InvalidKey):
        normalize_md5("xyz")
    with pytest.raises(InvalidKey):
        key_for(MD5, -1)


def test_md5_of_file(tmp_path: Path) -> None:
    p = tmp_path / "f.txt"
    p.write_bytes(b"hello")
    assert md5_of_file(p) == (MD5, 5)


def test_object_relpath() -> None:
    k = Key("0123456789abcdef0123456789abcdef", 3, ".csv")
    assert object_relpath(k) == f"01/23/{k.name}/{k.name}"


_NEAR_KEYS = st.from_regex(r"MD5E-s[0-9]{1,21}--[0-9a-fA-F]{30,33}(\.[A-Za-z0-9_]{0,5}){0,3}", fullmatch=True)


@given(_NEAR_KEYS | st.text(max_size=80))
def test_key_pattern_is_the_parser_grammar(name: str) -> None:
    """KEY_PATTERN (embedded in the link-text parser) accepts exactly what parse_key accepts."""
    assert (re.fullmatch(KEY_PATTERN, name) is not None) == (try_parse_key(name) is not None)


def test_digest_streams_checks_and_reads_files(tmp_path: Path) -> None:
    data = b"x" * (3 << 20) + b"tail"
    d = Digest()
    assert b"".join(d.passing([data[:5], data[5:]])) == data
    key = Key(hashlib.md5(data).hexdigest(), len(data))
    assert d.matches(key) and d.size == len(data)
    d.check(key, "f")
    assert not d.matches(key._replace(size=4))
    with pytest.raises(ChecksumMismatch, match=f"f: got {len(data)} bytes, expected 4"):
        d.check(key._replace(size=4), "f")
    (tmp_path / "f").write_bytes(data)
    assert md5_of_file(tmp_path / "f") == (key.md5, len(data))
