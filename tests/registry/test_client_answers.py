"""RegistryClient against a registry that answers wrongly (tests/support/evilreg.py, in process):
every wrong shape is a one-line RegistryError, and an upload retries only what may be retried."""

from __future__ import annotations

from pathlib import Path

import pytest

from selenite.errors import FatalError, NotFound, RegistryError
from selenite.registry import RegistryClient, session_for
from selenite.registry.answers import SMALL_JSON_MAX
from selenite.registry.records import BATCH_RECORD_MAX
from tests.support.evilreg import EvilRegistry, Reply
from tests.support.ports import free_port


@pytest.fixture
def client(evilreg: EvilRegistry) -> RegistryClient:
    return RegistryClient(evilreg.url, "tok")


def test_no_url_is_one_line() -> None:
    with pytest.raises(FatalError, match="no registry URL"), session_for(None):
        pass


def test_listings_and_version_files(evilreg: EvilRegistry, client: RegistryClient) -> None:
    evilreg.add_version("p", "a", "v1", {"x.txt": b"x"})
    assert client.list_projects() == ["p"] and client.list_assets("p") == ["a"]
    assert client.list_versions("p", "a") == ["v1"]
    assert "x.txt" in client.manifest("p", "a", "v1")
    evilreg.put("p/a/v2/..manifest", [1, 2])
    with pytest.raises(RegistryError, match=r"\Athe manifest of p/a/v2 is not a JSON object\Z"):
        client.manifest("p", "a", "v2")
    assert client.latest("p", "none") is None
    evilreg.put("p/b/..latest", {"version": ""})
    with pytest.raises(RegistryError, match="latest-version file of p/b is malformed"):
        client.latest("p", "b")
    evilreg.routes[("GET", "/list")] = lambda req: Reply.of_json({"not": "a list"})
    with pytest.raises(RegistryError, match="malformed listing"):
        client.list_projects()


def test_wrong_answers_are_refused(evilreg: EvilRegistry, client: RegistryClient) -> None:
    evilreg.put("p/a/v1/..summary", b"{not json")
    with pytest.raises(RegistryError, match="not JSON for version p/a/v1"):
        client.summary("p", "a", "v1")
    evilreg.put("p/a/v2/..summary", b"[" + b" " * SMALL_JSON_MAX + b"]")
    with pytest.raises(RegistryError, match="sent more than 1024 KiB for version p/a/v2: refused"):
        client.summary("p", "a", "v2")
    evilreg.routes[("POST", "/upload/start/")] = lambda req: Reply.of_json({"status": "error", "reason": "busy"})
    with pytest.raises(RegistryError, match=r"refused upload start of p/a/v3: 200 busy"):
        client.upload_start("p", "a", "v3", [])
    evilreg.routes[("POST", "/upload/start/")] = lambda req: Reply.of_json({"session_token": "t"})
    with pytest.raises(RegistryError, match=r"malformed answer to the upload start of p/a/v3"):
        client.upload_start("p", "a", "v3", [])
    evilreg.routes[("POST", "/upload/presigned-file/")] = lambda req: Reply.of_json({"url": 3})
    with pytest.raises(RegistryError, match=r"malformed presigned URL for f\.txt"):
        client.presigned_url("/upload/presigned-file/x", "t", "f.txt")


def test_whoami(evilreg: EvilRegistry, client: RegistryClient) -> None:
    assert client.whoami() is None  # a gypsum worker: no such route
    evilreg.routes[("GET", "/_selenite/whoami")] = lambda req: Reply.of_json({"user": "ann", "admin": False})
    assert client.whoami() == {"user": "ann", "admin": False}
    assert evilreg.requested("GET", "/_selenite/whoami")[-1].headers["Authorization"] == "Bearer tok"
    evilreg.routes[("GET", "/_selenite/whoami")] = lambda req: Reply.of_json({"user": 1})
    with pytest.raises(RegistryError, match="malformed answer to whoami"):
        client.whoami()


def test_batched_answers_that_lie(evilreg: EvilRegistry, client: RegistryClient) -> None:
    evilreg.put("k1", b"one")
    evilreg.put("k2", b"two")
    assert list(client.get_objects(["k1", "gone", "k2"], [3, 0, 3])) == [("k1", b"one"), ("gone", None),
                                                                          ("k2", b"two")]
    with pytest.raises(RegistryError, match="sent 'k2' where 'k1' was due"):
        _reordered(evilreg, client)
    evilreg.batch_size["k1"] = 2
    with pytest.raises(RegistryError, match="declared 2 bytes for k1 in a batch, not 3"):
        list(client.get_objects(["k1"], [3]))
    evilreg.batch_size["k1"] = BATCH_RECORD_MAX + 1
    with pytest.raises(RegistryError, match="at most"):
        list(client.get_objects(["k1"]))
    evilreg.batching = False
    with pytest.raises(NotFound):
        next(client.get_objects(["k1"]))


def _reordered(evilreg: EvilRegistry, client: RegistryClient) -> list[tuple[str, bytes | None]]:
    evilreg.routes[("POST", "/_selenite/objects")] = lambda req: evilreg.batch(["k2"])
    try:
        return list(client.get_objects(["k1"]))
    finally:
        del evilreg.routes[("POST", "/_selenite/objects")]


def test_put_file_retries_5xx_and_not_4xx(evilreg: EvilRegistry, client: RegistryClient, tmp_path: Path) -> None:
    src = tmp_path / "f.bin"
    src.write_bytes(b"z" * 5000)
    answers = [Reply.of_json({"reason": "try later"}, 503), Reply(200)]
    evilreg.routes[("PUT", "/put/")] = lambda req: answers.pop(0)
    seen: list[int] = []
    client.put_file(f"{evilreg.url}/put/1", src, "md5", on_bytes=seen.append)
    assert sum(seen) == 5000 and answers == []  # progress restarted with the retry
    puts = evilreg.requested("PUT")
    assert [len(r.body) for r in puts] == [5000, 5000] and puts[0].headers["Content-MD5"] == "md5"
    evilreg.routes[("PUT", "/put/")] = lambda req: Reply.of_json({"reason": "bad md5"}, 400)
    with pytest.raises(RegistryError, match=r"\Aregistry refused the upload of f.bin: 400 bad md5\Z"):
        client.put_file(f"{evilreg.url}/put/2", src, "md5")
    evilreg.routes[("PUT", "/put/")] = lambda req: Reply.of_json({"reason": "down"}, 503)
    with pytest.raises(RegistryError, match=r"\Aupload of x failed after 2 attempts: 503 down\Z"):
        client.put_file(f"{evilreg.url}/put/3", src, "md5", what="x")


def test_put_file_to_nowhere_says_why_after_its_attempts(client: RegistryClient, tmp_path: Path) -> None:
    src = tmp_path / "f.bin"
    src.write_bytes(b"z")
    client.http.adapters["http://"].max_retries.total = 0  # fail fast: the test is about the client's own attempts
    with pytest.raises(RegistryError, match=r"\Aupload of f.bin failed after 2 attempts: .*refused"):
        client.put_file(f"http://127.0.0.1:{free_port()}/put", src, "md5")
