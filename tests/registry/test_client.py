"""The REST client against a real `selenite serve`: refusals as one-liners, a full upload, keys."""

from __future__ import annotations

import base64
import hashlib
from pathlib import Path

import pytest

from selenite.errors import NotFound, RegistryError
from selenite.registry import RegistryClient, quote_key
from tests.support.ports import free_port
from tests.support.registry import Registry
from tests.support.seed import create_project


def test_quote_key_never_uses_plus() -> None:
    assert quote_key("p/a/v/my file+x.txt") == "p%2Fa%2Fv%2Fmy%20file%2Bx.txt"


def test_upload_round_trip_and_reads(registry: Registry, tmp_path: Path) -> None:
    create_project(registry, "proj")
    client = RegistryClient(registry.url, registry.admin_token)
    src = tmp_path / "my file.txt"
    src.write_bytes(b"some bytes\n")
    md5 = hashlib.md5(src.read_bytes()).hexdigest()
    entry = {"type": "simple", "path": "d/my file.txt", "md5sum": md5, "size": 11}
    init = client.upload_start("proj", "a", "v1", [entry])
    assert [f["path"] for f in init["file_urls"]] == ["d/my file.txt"]
    url, md5_b64 = client.presigned_url(init["file_urls"][0]["url"], init["session_token"], "d/my file.txt")
    assert base64.b64decode(md5_b64).hex() == md5
    seen: list[int] = []
    client.put_file(url, src, md5_b64, on_bytes=seen.append)
    assert sum(seen) == 11
    client.upload_complete(init["complete_url"], init["session_token"], "proj/a/v1")
    assert client.latest("proj", "a") == "v1"
    assert client.list_versions("proj", "a") == ["v1"]
    assert client.list_keys("proj/a/v1/", recursive=True) == ["proj/a/v1/..manifest", "proj/a/v1/..summary",
                                                              "proj/a/v1/d/my file.txt"]
    assert b"".join(client.iter_file("proj/a/v1/d/my file.txt")) == b"some bytes\n"  # a space in the key
    assert client.manifest("proj", "a", "v1")["d/my file.txt"]["md5sum"] == md5
    with pytest.raises(NotFound):
        list(client.iter_file("proj/a/v1/nope"))
    assert client.latest("proj", "other") is None


def test_refusals_carry_the_reason(registry: Registry) -> None:
    create_project(registry, "proj")
    stranger = RegistryClient(registry.url, registry.token("stranger"))
    with pytest.raises(RegistryError) as e:
        stranger.upload_start("proj", "a", "v1", [])
    assert str(e.value) == "registry refused upload start of proj/a/v1: 403 user is not authorized to upload"
    assert e.value.status == 403
    anonymous = RegistryClient(registry.url, None)
    with pytest.raises(RegistryError, match="401 no user identity supplied"):
        anonymous.upload_start("proj", "a", "v1", [])


def test_abort_leaves_nothing(registry: Registry) -> None:
    create_project(registry, "proj")
    client = RegistryClient(registry.url, registry.admin_token)
    init = client.upload_start("proj", "a", "v1", [{"type": "simple", "path": "x", "md5sum": "0" * 32, "size": 1}])
    client.upload_abort(init["abort_url"], init["session_token"], "proj/a/v1")
    assert client.list_versions("proj", "a") == []


def test_unreachable_registry_is_one_line() -> None:
    client = RegistryClient(f"http://127.0.0.1:{free_port()}")
    client.http.adapters["http://"].max_retries.total = 1  # keep the test quick
    client.http.adapters["http://"].max_retries.connect = 1
    with pytest.raises(RegistryError) as e:
        client.list_projects()
    assert "cannot reach the registry" in str(e.value) and "\n" not in str(e.value)
