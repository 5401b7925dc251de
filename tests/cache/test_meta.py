"""cache.meta: manifests, trees and refs; what is read back is validated, never trusted."""

from __future__ import annotations

import json

import pytest

from selenite.cache import Cache, registry_id, tree_hash
from tests.cache.conftest import key_of


def test_manifest_tree_ref_round_trip(cache: Cache) -> None:
    reg = registry_id("http://127.0.0.1:8787/")
    assert reg == "127.0.0.1%3A8787"
    cache.save_manifest(reg, "p", "a", "v1", {"x.csv": {"md5sum": "0" * 32, "size": 1}})
    assert cache.load_manifest(reg, "p", "a", "v1") == {"x.csv": {"md5sum": "0" * 32, "size": 1}}
    assert cache.load_manifest(reg, "p", "a", "v2") is None
    assert cache.manifest_versions(reg, "p", "a") == ["v1"]
    listing = {"b/x.csv": key_of(b"1", ".csv"), "a": key_of(b"2", "")}
    h = cache.put_tree(listing)
    assert h == tree_hash(listing) and cache.get_tree(h) == listing
    cache.set_ref(reg, "p", "a", "v1", h)
    assert cache.get_ref(reg, "p", "a", "v1") == h
    with pytest.raises(Exception, match="cannot be used"):
        cache.get_ref(reg, "..", "a", "v1")


def test_tree_hash_is_unambiguous() -> None:
    k1, k2 = key_of(b"1"), key_of(b"2")
    assert tree_hash({"a": k1, "b": k2}) == tree_hash({"b": k2, "a": k1})
    assert tree_hash({"a": k1, "b": k2}) != tree_hash({"a": k2, "b": k1})
    assert tree_hash({"a": k1}) != tree_hash({"a/": k1})


def test_tampered_tree_file_is_not_trusted(cache: Cache) -> None:
    h = cache.put_tree({"a": key_of(b"1")})
    path = cache.root / "trees" / h[:2] / f"{h}.json"
    path.write_text(json.dumps({"a": key_of(b"2").name}))
    assert cache.get_tree(h) is None
    for bad in ("../x", ".git/config", "a/.GIT./hooks/x"):  # not a tree selenite would write: not trusted
        path.write_text(json.dumps({bad: key_of(b"1").name}))
        assert cache.get_tree(h) is None


def test_ref_versions(cache: Cache) -> None:
    reg = registry_id("http://r")
    assert cache.ref_versions(reg, "p", "a") == []
    h = cache.put_tree({"a": key_of(b"1")})
    for v in ("v2", "v1"):
        cache.set_ref(reg, "p", "a", v, h)
    assert cache.ref_versions(reg, "p", "a") == ["v1", "v2"]
