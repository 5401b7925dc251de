"""Fixtures for the cache's unit tests: a fresh cache, and keys of literal bytes."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from selenite import statsig
from selenite.cache import Cache
from selenite.keys import Key


def key_of(data: bytes, ext: str = ".bin") -> Key:
    return Key(hashlib.md5(data).hexdigest(), len(data), ext)


def signed(cache: Cache, key: Key) -> bool:
    """The object's stat is the signature recorded for it (no re-hash needed)."""
    try:
        st = cache.object_path(key).stat()
    except OSError:
        return False
    return statsig.unchanged(st, cache.signature(key)) and st.st_size == key.size


@pytest.fixture
def cache(tmp_path: Path) -> Cache:
    return Cache(tmp_path / "cache")
