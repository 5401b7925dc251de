"""pushplan's pure parts: the next version's name, gypsum cache links, and where content already lives."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from selenite import pushplan
from selenite.cache import Cache, registry_id
from selenite.errors import FatalError
from selenite.keys import Key
from selenite.registry import session_for
from selenite.tree.origin import Origin
from tests.support.evilreg import EvilRegistry


def test_the_next_version_follows_the_highest_finished_v_n(evilreg: EvilRegistry) -> None:
    for v in ("v1", "v2", "v10"):
        evilreg.add_version("p", "a", v, {"x.txt": b"x\n"})
    with session_for(evilreg.url) as client:
        assert pushplan.next_version(client, "p", "a") == "v11"


def test_an_unfinished_v_n_left_by_a_killed_push_does_not_use_up_its_name(evilreg: EvilRegistry) -> None:
    evilreg.add_version("p", "a", "v1", {"x.txt": b"x\n"})
    evilreg.add_version("p", "a", "v2", {"x.txt": b"x\n"}, finished=False)
    with session_for(evilreg.url) as client:
        assert pushplan.next_version(client, "p", "a") == "v2"


def test_versions_not_named_v_n_need_a_name(evilreg: EvilRegistry) -> None:
    evilreg.add_version("p", "a", "2024-01", {"x.txt": b"x\n"})
    with session_for(evilreg.url) as client, pytest.raises(FatalError, match="--version"):
        pushplan.next_version(client, "p", "a")


def test_a_link_into_a_gypsum_client_cache_names_its_file(tmp_path: Path) -> None:
    (tmp_path / "bucket").mkdir()
    target = f"{tmp_path}/bucket/p/a/v1/sub/x.txt"
    assert pushplan.gypsum_location(target) == pushplan.Location("p", "a", "v1", "sub/x.txt")
    assert pushplan.gypsum_location("bucket/p/a/v1/x.txt") is None  # relative: not gypsum_client's
    assert pushplan.gypsum_location(f"{tmp_path}/bucket/p/a/v1/..x/y.txt") is None
    assert pushplan.gypsum_location(f"{tmp_path}/elsewhere/bucket/p/a/v1/x.txt") is None  # no such cache


def test_content_links_to_the_origin_first_and_never_into_a_probational_version(
    evilreg: EvilRegistry, tmp_path: Path
) -> None:
    data = b"shared\n"
    key = Key(hashlib.md5(data).hexdigest(), len(data), ".txt")
    evilreg.add_version("p", "a", "v1", {"old.txt": data})
    evilreg.add_version("p", "a", "v2", {"new.txt": data}, on_probation=True)
    cache = Cache(tmp_path / "cache")
    with session_for(evilreg.url) as client:
        from_v1 = pushplan.Locations(client, cache, Origin(evilreg.url, "p", "a", "v1"))
        assert from_v1.find(key) == pushplan.Location("p", "a", "v1", "old.txt")
        # A tree whose origin is on probation links to the versions before it (the registry refuses
        # links into a probational version); its own manifest is fetched, v1's is not cached here.
        from_v2 = pushplan.Locations(client, cache, Origin(evilreg.url, "p", "a", "v2"))
        assert from_v2.find(key) is None
        assert from_v2.holds(pushplan.Location("p", "a", "v2", "new.txt")) == Key(key.md5, key.size, ".txt")
        assert from_v2.holds(pushplan.Location("p", "a", "v9", "new.txt")) is None


def test_content_the_origin_lacks_is_found_in_the_other_cached_versions(evilreg: EvilRegistry, tmp_path: Path) -> None:
    old, new = b"reverted\n", b"current\n"
    key_old = Key(hashlib.md5(old).hexdigest(), len(old), ".txt")
    key_new = Key(hashlib.md5(new).hexdigest(), len(new), ".txt")
    evilreg.add_version("p", "a", "v1", {"x.txt": old, "y.txt": old})
    evilreg.add_version("p", "a", "v2", {"x.txt": new})
    cache = Cache(tmp_path / "cache")
    with session_for(evilreg.url) as client:
        reg = registry_id(evilreg.url)
        cache.save_manifest(reg, "p", "a", "v1", client.manifest("p", "a", "v1"))
        from_v2 = pushplan.Locations(client, cache, Origin(evilreg.url, "p", "a", "v2"))
        assert from_v2.find(key_new) == pushplan.Location("p", "a", "v2", "x.txt")  # the origin first
        from_v2.search([key_old.content(), ("0" * 32, 1)])  # as a plan asks for its new files
        assert from_v2.find(key_old) == pushplan.Location("p", "a", "v1", "x.txt")
        assert from_v2.find(Key("0" * 32, 1, "")) is None
        fresh = pushplan.Locations(client, cache, Origin(evilreg.url, "p", "a", "v2"))
        assert fresh.find(key_old) == pushplan.Location("p", "a", "v1", "x.txt")  # searched on a miss too
