"""What only the S3 backend promises, against a real SeaweedFS (`weed mini`) on 127.0.0.1.

- upload bytes go client -> object store through presigned URLs: the server receives none;
- the store itself refuses a wrong Content-MD5 (BadDigest) and a tampered or expired URL (403);
- N servers over one bucket are interchangeable: one lock, shared tokens, shared versions;
- put_stream (multipart beyond one part) stores nothing on an md5 mismatch; listing paginates and
  prefix deletion batches.
"""

from __future__ import annotations

import base64
import hashlib
import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import gypsum_client as gc
import pytest
import requests
from srvhelpers import Server, q, s3_storage, start, start_server, upload
from tests.support import s3server
from tests.support.cli import selenite

from selenite.server.errors import DigestMismatch
from selenite.server.storage import s3calls


@pytest.fixture(scope="module")
def pair(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Server, Server]]:
    """Two `selenite serve` processes over one bucket and prefix (behind no load balancer)."""
    one = start_server("s3", tmp_path_factory.mktemp("s3-one"))
    two = Server(root=tmp_path_factory.mktemp("s3-two"), backend="s3",
                 s3_endpoint=one.s3_endpoint, s3_bucket=one.s3_bucket, s3_prefix=one.s3_prefix)
    two.tokens = one.tokens  # same state area: the first server's tokens work here too
    two.admin_token = one.admin_token
    two.start()
    try:
        yield one, two
    finally:
        two.stop()
        one.stop()


def _project(srv: Server) -> str:
    name = f"p-{os.urandom(5).hex()}"
    r = srv.req("POST", f"/create/{name}", user="admin", json={"permissions": {"owners": ["alice"]}})
    assert r.status_code == 200, r.text
    return name


def _s3_key(srv: Server, key: str) -> str:
    return f"{srv.s3_prefix}/bucket/{key}"


def test_upload_bytes_go_straight_to_the_store(pair: tuple[Server, Server], tmp_path: Path) -> None:
    srv, _ = pair
    p = _project(srv)
    data = os.urandom(3 * 1024 * 1024 + 5)
    d = tmp_path / "v1"
    d.mkdir()
    (d / "big.bin").write_bytes(data)
    before = srv.stats()
    assert gc.upload_directory(str(d), p, "a", "v1", url=srv.url, token=srv.tokens["alice"],
                               cache_dir=str(tmp_path / "gc"))
    after = srv.stats()
    assert after["upload_put"] == before["upload_put"] == 0
    assert after["upload_put_bytes"] == before["upload_put_bytes"] == 0
    # ... while the object is in the bucket, whole, under PREFIX/bucket/<key>
    obj = srv.s3_client().get_object(Bucket=srv.s3_bucket, Key=_s3_key(srv, f"{p}/a/v1/big.bin"))
    assert obj["Body"].read() == data
    assert obj["ETag"].strip('"') == hashlib.md5(data).hexdigest()
    # and reads through the server stream it back, with the md5 as ETag
    r = srv.req("GET", f"/file/{q(p + '/a/v1/big.bin')}")
    assert r.status_code == 200 and r.content == data and r.headers["ETag"] == f'"{hashlib.md5(data).hexdigest()}"'
    assert r.headers["Content-Type"] == "application/octet-stream"
    assert srv.stats()["file_get_bytes"] - after["file_get_bytes"] == len(data)


def test_presigned_url_signs_content_md5_and_expires(pair: tuple[Server, Server]) -> None:
    srv, _ = pair
    p = _project(srv)
    init = start(srv, "alice", p, "a", "v1", {"x.txt": b"right"}).json()
    pre = srv.req("POST", init["file_urls"][0]["url"], token=init["session_token"]).json()
    assert pre["url"].startswith(srv.s3_endpoint + "/") and "content-md5" in pre["url"].lower()
    md5_header = {"Content-MD5": pre["md5sum_base64"]}
    r = requests.put(pre["url"], data=b"wrong", headers=md5_header, timeout=10)
    assert r.status_code == 400 and "<Code>BadDigest</Code>" in r.text
    r = requests.put(pre["url"], data=b"right", timeout=10)  # the signed header left out
    assert r.status_code == 403
    r = requests.put(pre["url"].replace(f"/{srv.s3_prefix}/", "/other/"), data=b"right", headers=md5_header, timeout=10)
    assert r.status_code == 403  # another key under the same signature
    left = srv.s3_client().list_objects_v2(Bucket=srv.s3_bucket, Prefix=_s3_key(srv, p + "/a/v1/x"))
    assert left.get("KeyCount") == 0

    # An expired URL: the same backend, asked for a 1-second URL.
    storage = s3_storage()
    md5_b64 = base64.b64encode(hashlib.md5(b"late").digest()).decode()
    url = storage.presign_put("q/s/late.txt", md5_b64, 4, 1, key="q/a/v1/late.txt")
    time.sleep(2.2)
    r = requests.put(url, data=b"late", headers={"Content-MD5": md5_b64}, timeout=10)
    assert r.status_code == 403 and "expired" in r.text.lower()
    assert storage.head_staged("q/s/late.txt") is None and storage.head("q/a/v1/late.txt") is None
    assert requests.put(pre["url"], data=b"right", headers=md5_header, timeout=10).status_code == 200
    assert srv.req("POST", init["complete_url"], token=init["session_token"]).status_code == 200


def test_two_servers_share_one_lock(pair: tuple[Server, Server]) -> None:
    one, two = pair
    p = _project(one)
    results: list[int] = []
    barrier = threading.Barrier(8)

    def attempt(i: int) -> None:
        srv = (one, two)[i % 2]
        barrier.wait()
        results.append(start(srv, "alice", p, "a", f"v{i}", {"x.txt": b"x"}).status_code)

    threads = [threading.Thread(target=attempt, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == [200] + [403] * 7
    lock = one.req("GET", f"/file/{q(p + '/..LOCK')}")
    assert lock.status_code == 200 and two.req("GET", f"/file/{q(p + '/..LOCK')}").content == lock.content


def test_pushed_through_one_server_cloned_through_the_other(pair: tuple[Server, Server], tmp_path: Path) -> None:
    one, two = pair
    p = _project(one)
    files = {"a.txt": b"alpha\n", "d/b.bin": os.urandom(100_000)}
    upload(one, "alice", p, "data", "v1", files)
    selenite("clone", f"{p}/data@v1", tmp_path / "work", "--url", two.url)
    assert (tmp_path / "work" / "a.txt").read_bytes() == files["a.txt"]
    assert (tmp_path / "work" / "d" / "b.bin").read_bytes() == files["d/b.bin"]
    # and a new version pushed through the second is listed by the first
    (tmp_path / "work" / "new.txt").write_bytes(b"new\n")
    selenite("push", "--version", "v2", "--token", one.tokens["alice"], cwd=tmp_path / "work")
    assert gc.list_versions(p, "data", url=one.url) == ["v1", "v2"]
    assert one.req("GET", f"/file/{q(p + '/data/v2/new.txt')}").content == b"new\n"


def test_token_created_while_both_run_works_on_both_at_once(pair: tuple[Server, Server]) -> None:
    one, two = pair
    token = one.token("dave")  # `selenite token create dave --storage s3://... --s3-endpoint ...`
    for srv in (one, two):
        r = srv.req("POST", f"/create/p-{os.urandom(4).hex()}", token=token, json={"permissions": {"owners": ["dave"]}})
        assert r.status_code == 403 and "administrator" in r.text  # known user, just not an admin
    # state lives under PREFIX/state/, never under PREFIX/bucket/ (so never served)
    listed = one.s3_client().list_objects_v2(Bucket=one.s3_bucket, Prefix=one.s3_prefix + "/state/tokens/")
    keys = [o["Key"] for o in listed["Contents"]]
    assert len(keys) == len(one.tokens) + 1
    assert one.req("GET", "/list", params={"prefix": "", "recursive": "true"}).json() != []
    assert not any("tokens/" in k for k in one.req("GET", "/list", params={"recursive": "true"}).json())


def test_put_stream_multipart_stores_nothing_on_mismatch(monkeypatch: pytest.MonkeyPatch) -> None:
    storage = s3_storage()
    monkeypatch.setattr(s3calls, "PART", 5 * 1024 * 1024)  # the S3 minimum part size: 3 parts below
    data = os.urandom(11 * 1024 * 1024 + 3)
    chunks = [data[i:i + 1_000_000] for i in range(0, len(data), 1_000_000)]
    with pytest.raises(DigestMismatch):
        storage.put_stream("p/a/v/big.bin", iter(chunks), md5_hex="0" * 32)
    assert storage.head("p/a/v/big.bin") is None
    pending = storage.client.list_multipart_uploads(Bucket=storage.bucket, Prefix=storage.prefix + "/")
    assert pending.get("Uploads", []) == []  # aborted, not left to linger
    info = storage.put_stream("p/a/v/big.bin", iter(chunks), md5_hex=hashlib.md5(data).hexdigest())
    assert info.size == len(data) and info.md5 == hashlib.md5(data).hexdigest()  # from metadata, not the ETag
    stream = storage.open("p/a/v/big.bin")
    assert stream is not None
    try:
        assert hashlib.md5(b"".join(stream.chunks)).hexdigest() == info.md5
    finally:
        stream.close()


def test_listing_paginates_and_deletion_batches(monkeypatch: pytest.MonkeyPatch) -> None:
    storage = s3_storage()
    monkeypatch.setattr(s3calls, "PAGE", 2)
    monkeypatch.setattr(s3calls, "BATCH", 3)
    calls: list[int] = []
    real = storage.client.delete_objects

    def counting(**kw: Any) -> Any:
        calls.append(len(kw["Delete"]["Objects"]))
        return real(**kw)

    monkeypatch.setattr(storage.client, "delete_objects", counting)
    keys = [f"p/a/v1/f{i}.txt" for i in range(7)] + ["p/a/v1/sub/x", "p/a/..latest", "p/b/v1/y"]
    for k in keys:
        storage.put_bytes(k, k.encode())
    assert storage.list_dir("p/") == ["p/a/", "p/b/"]
    assert storage.list_dir("p/a/v1/") == ["p/a/v1/sub/"] + [f"p/a/v1/f{i}.txt" for i in range(7)]
    assert [k for k, _ in storage.list_recursive("p/a/")] == sorted(k for k in keys if k.startswith("p/a/"))
    freed = storage.delete_prefix("p/a/v1/")
    assert freed == {k: len(k) for k in keys if k.startswith("p/a/v1/")}
    assert calls[:3] == [3, 3, 2]  # 8 objects in batches of at most 3, then the emptied folders
    # SeaweedFS keeps emptied "directories"; they must not show up as prefixes
    assert storage.list_dir("p/a/") == ["p/a/..latest"]
    assert storage.list_dir("p/") == ["p/a/", "p/b/"]


def test_bad_storage_settings_are_one_line(tmp_path: Path) -> None:
    weed = s3server.shared()
    env = s3server.aws_env()
    r = selenite("serve", "--storage", "s3://no-such-bucket-here", "--s3-endpoint", weed.endpoint, check=False, env=env)
    assert r.returncode == 1 and r.stderr.strip().count("\n") == 0 and "no-such-bucket-here" in r.stderr
    r = selenite("token", "create", "x", "--storage", "s3://Bad_Name", check=False, env=env)
    assert r.returncode == 1 and "not a valid S3 bucket name" in r.stderr
    bad_env = {**env, "AWS_SECRET_ACCESS_KEY": "wrong"}
    r = selenite("token", "create", "x", "--storage", f"s3://{weed.shared_bucket()}/p",
                 "--s3-endpoint", weed.endpoint, check=False, env=bad_env)
    assert r.returncode == 1 and r.stderr.strip().count("\n") == 0, r.stderr
    r = selenite("token", "create", "x", "--storage", f"s3://{weed.shared_bucket()}/p",
                 "--s3-endpoint", weed.endpoint, check=False, env={**env, "SELENITE_S3_CHECKSUMS": "sometimes"})
    assert r.returncode == 1 and "SELENITE_S3_CHECKSUMS" in r.stderr
