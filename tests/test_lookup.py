"""lookup: which version a name means, its listing, and its manifest from the cache before the registry."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from selenite import lookup
from selenite.cache import Cache, registry_id
from selenite.errors import FatalError
from selenite.registry import RegistryClient, session_for
from tests.support.evilreg import EvilRegistry


@pytest.fixture
def cache(tmp_path: Path) -> Cache:
    return Cache(tmp_path / "cache")


def _manifest_reads(reg: EvilRegistry) -> int:
    return len([r for r in reg.requested("GET") if r.path.endswith("..manifest")])


def test_a_finished_version_is_resolved_once_then_read_from_the_cache(evilreg: EvilRegistry, cache: Cache) -> None:
    evilreg.add_version("p", "a", "v1", {"x.txt": b"x\n"}, latest=False)
    evilreg.add_version("p", "a", "v2", {"x.txt": b"x\n", "y.txt": b"y\n"})
    with session_for(evilreg.url) as client:
        version, listing, specs = lookup.resolve_version(client, cache, "p", "a", None)  # the latest
        assert version == "v2" and sorted(listing) == ["x.txt", "y.txt"] and specs is not None
        again = lookup.resolve_version(client, cache, "p", "a", "v2")
    assert again == ("v2", listing, None)  # from the cached tree: no manifest asked for
    assert _manifest_reads(evilreg) == 1


def test_a_probational_version_is_not_cached(evilreg: EvilRegistry, cache: Cache) -> None:
    evilreg.add_version("p", "a", "v1", {"x.txt": b"x\n"}, on_probation=True)
    with session_for(evilreg.url) as client:
        assert lookup.resolve_version(client, cache, "p", "a", "v1")[2] is not None
        assert lookup.resolve_version(client, cache, "p", "a", "v1")[2] is not None
    assert cache.load_manifest(registry_id(evilreg.url), "p", "a", "v1") is None


def test_an_unfinished_version_is_refused(evilreg: EvilRegistry, cache: Cache) -> None:
    evilreg.add_version("p", "a", "v1", {"x.txt": b"x\n"}, finished=False)
    with session_for(evilreg.url) as client, pytest.raises(FatalError, match="still being uploaded"):
        lookup.resolve_version(client, cache, "p", "a", "v1")


@pytest.mark.parametrize("source, message", [
    (("q", "a", "v1"), "has no project 'q'"),
    (("p", "b", "v1"), "project 'p' has no asset 'b'"),
    (("p", "a", "v9"), "p/a has no version 'v9'"),
])
def test_what_does_not_exist_is_named(evilreg: EvilRegistry, cache: Cache, source: tuple[str, str, str],
                                      message: str) -> None:
    evilreg.add_version("p", "a", "v1", {"x.txt": b"x\n"})
    with session_for(evilreg.url) as client, pytest.raises(FatalError, match=message):
        lookup.resolve_version(client, cache, *source)


def test_an_asset_without_a_latest_version_asks_for_one_by_name(evilreg: EvilRegistry, cache: Cache) -> None:
    evilreg.add_version("p", "a", "v1", {"x.txt": b"x\n"}, latest=False)
    with session_for(evilreg.url) as client, pytest.raises(FatalError, match="name one with @VERSION"):
        lookup.resolve_version(client, cache, "p", "a", None)


def test_a_manifest_comes_from_the_cache_first(evilreg: EvilRegistry, cache: Cache) -> None:
    m = evilreg.add_version("p", "a", "v1", {"x.txt": b"x\n"})
    reg = registry_id(evilreg.url)
    with session_for(evilreg.url) as client:
        assert lookup.manifest(client, cache, reg, "p", "a", "v1") == m
        assert _manifest_reads(evilreg) == 1
        cache.save_manifest(reg, "p", "a", "v1", m)
        assert lookup.manifest(client, cache, reg, "p", "a", "v1") == m
        assert _manifest_reads(evilreg) == 1
        assert lookup.manifest_if_any(client, cache, reg, "p", "a", "gone") is None


def test_without_a_client_only_the_cache_is_read(evilreg: EvilRegistry, cache: Cache) -> None:
    evilreg.add_version("p", "a", "v1", {"x.txt": b"x\n"})
    assert lookup.manifest_if_any(None, cache, registry_id(evilreg.url), "p", "a", "v1") is None
    assert evilreg.requested() == []


def test_a_version_git_cannot_tag_is_refused_before_anything_is_read(evilreg: EvilRegistry, cache: Cache) -> None:
    client = RegistryClient(evilreg.url)
    try:
        with pytest.raises(FatalError, match="Git tag"):
            lookup.resolve_version(client, cache, "p", "a", "v 1")
    finally:
        client.close()
    assert evilreg.requested() == []


def test_contents_come_from_the_cache_once_checked_and_a_damaged_copy_is_read_again(
        evilreg: EvilRegistry, cache: Cache) -> None:
    evilreg.add_version("p", "a", "v1", {"x.txt": b"x\n", "d/y.txt": b"yy\n"})
    want = {"x.txt": (hashlib.md5(b"x\n").hexdigest(), 2), "d/y.txt": (hashlib.md5(b"yy\n").hexdigest(), 3)}
    with session_for(evilreg.url) as client:
        assert lookup.contents(client, cache, "p", "a", "v1") == want
        assert lookup.contents(client, cache, "p", "a", "v1") == want  # the cached manifest
        assert _manifest_reads(evilreg) == 1
        reg = registry_id(evilreg.url)
        damaged = {"x.txt": {"md5sum": want["x.txt"][0], "size": True}}  # a bool is no size
        cache.save_manifest(reg, "p", "a", "v1", damaged)
        cache.set_ref(reg, "p", "a", "v1", "0" * 64)  # a ref to no tree: the registry is asked again
        assert lookup.contents(client, cache, "p", "a", "v1") == want
        assert _manifest_reads(evilreg) == 2
