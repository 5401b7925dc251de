"""Upload bodies against a real `selenite serve` (both backends): staged, bounded, never blocking.

- a PUT that stalls and finishes after its session was aborted, and after someone else completed
  or approved that version name, changes no published byte (20 trials per backend);
- a body past its declared size is refused at once (413 / the store's 403) and never stored;
- stalled PUTs do not freeze reads; one PUT per URL, a bounded number per session, an idle
  deadline; staged bytes of an expired session are swept without any further request.

Slow clients are raw sockets on 127.0.0.1, each bounded in time; every socket is closed at the end.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import socket
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import requests
from srvhelpers import Server, get_json, listing, q, serving, start, upload
from tests.support.registry import BACKENDS


class SlowPut:
    """A PUT sent by hand over a socket: headers and all of the body but its last ``keep`` bytes."""

    def __init__(
        self, url: str, body: bytes, headers: dict[str, str], keep: int = 1, length: int | None = None
    ) -> None:
        parts = urlsplit(url)
        self.sock = socket.create_connection((parts.hostname or "127.0.0.1", parts.port or 80), timeout=10)
        target = parts.path + (f"?{parts.query}" if parts.query else "")
        fields = {"Host": parts.netloc, "Content-Length": str(len(body) if length is None else length), **headers}
        head = f"PUT {target} HTTP/1.1\r\n" + "".join(f"{k}: {v}\r\n" for k, v in fields.items()) + "\r\n"
        self.sock.sendall(head.encode("latin-1") + body[: len(body) - keep])
        self.rest = body[len(body) - keep:]

    def finish(self) -> int:
        self.sock.sendall(self.rest)
        return self.status()

    def status(self, timeout: float = 10) -> int:
        """The response's status code (0 when the server closed without answering)."""
        self.sock.settimeout(timeout)
        data = b""
        while b"\r\n" not in data:
            chunk = self.sock.recv(4096)
            if not chunk:
                return 0
            data += chunk
        return int(data.split(b" ", 2)[1])

    def answered(self, within: float) -> bool:
        self.sock.settimeout(within)
        try:
            return bool(self.sock.recv(1, socket.MSG_PEEK))
        except TimeoutError:
            return False

    def close(self) -> None:
        self.sock.close()


def presigned(srv: Server, init: dict, path: str) -> dict:
    url = next(f["url"] for f in init["file_urls"] if f["path"] == path)
    r = srv.req("POST", url, token=init["session_token"])
    assert r.status_code == 200, r.text
    return dict(r.json())


def _put(pre: dict, data: bytes) -> int:
    """PUT ``data`` to a presigned URL the way a well-behaved client does; the status."""
    return requests.put(pre["url"], data=data, headers={"Content-MD5": pre["md5sum_base64"]}, timeout=10).status_code


def staged(srv: Server, project: str) -> list[tuple[str, int]]:
    """Every object one project has in the staging area, read behind the server's back."""
    area = f"staging/{project}/" if srv.backend == "folder" else f"{srv.s3_prefix}/staging/{project}/"
    return [(name, size) for name, size in srv.list_raw() if name.startswith(area)]


@pytest.fixture
def project(srv: Server) -> str:
    """alice owns it; bob is a trusted uploader, carol an untrusted one (her versions are probational)."""
    name = f"p-{uuid.uuid4().hex[:10]}"
    body = {"permissions": {"owners": ["alice"], "uploaders": [{"id": "bob", "trusted": True}, {"id": "carol"}]}}
    assert srv.req("POST", f"/create/{name}", user="admin", json=body).status_code == 200
    return name


# --- finished versions are immutable -------------------------------------------------------------


def test_late_put_never_changes_a_published_version(srv: Server, project: str) -> None:
    good, evil = b"good,data\n", b"rm -rf --no-preserve-root /\n"
    for trial in range(20):
        v, mode = f"v{trial}", ("complete", "approve", "abort")[trial % 3]
        # bob's session stalls a PUT of his bytes one byte short of the end, then he aborts it
        init = start(srv, "bob", project, "a", v, {"run.sh": evil}).json()
        pre = presigned(srv, init, "run.sh")
        slow = SlowPut(pre["url"], evil, {"Content-MD5": pre["md5sum_base64"]})
        try:
            assert srv.req("POST", init["abort_url"], token=init["session_token"]).status_code == 200
            if mode == "complete":  # the owner publishes that very version name
                upload(srv, "alice", project, "a", v, {"run.sh": good})
            elif mode == "approve":  # an untrusted upload of it is reviewed and approved
                upload(srv, "carol", project, "a", v, {"run.sh": good})
                assert srv.req("POST", f"/probation/approve/{project}/a/{v}", user="alice").status_code == 200
            # ("abort": the version simply does not exist)
            manifest = get_json(srv, f"{project}/a/{v}/..manifest") if mode != "abort" else None
            status = slow.finish()
        finally:
            slow.close()
        if srv.backend == "folder":
            assert status == 403, (trial, mode, status)  # the session ended while its body arrived
        # S3 cannot refuse a presigned PUT it still deems valid: it lands in the dead session's staging.
        # Replaying the whole URL changes nothing visible either.
        replay = requests.put(pre["url"], data=evil, headers={"Content-MD5": pre["md5sum_base64"]}, timeout=10)
        assert replay.status_code == (403 if srv.backend == "folder" else 200)
        served = srv.req("GET", f"/file/{q(f'{project}/a/{v}/run.sh')}")
        if mode == "abort":
            assert served.status_code == 404 and listing(srv, f"{project}/a/{v}/") == [], (trial, mode)
        else:
            assert (served.status_code, served.content) == (200, good), (trial, mode)
            assert get_json(srv, f"{project}/a/{v}/..manifest") == manifest
    if srv.backend == "folder":
        assert staged(srv, project) == []  # nothing of a dead session was ever staged
    usage = get_json(srv, f"{project}/..usage")["total"]
    assert usage == len(good) * 14  # the 14 published versions, never the attacker's bytes


def test_a_put_finishing_after_its_own_complete_changes_nothing(srv: Server, project: str) -> None:
    data = b"0123456789" * 100
    init = start(srv, "alice", project, "a", "v1", {"f.bin": data}).json()
    pre = presigned(srv, init, "f.bin")
    assert _put(pre, data) == 200
    slow = SlowPut(pre["url"], data, {"Content-MD5": pre["md5sum_base64"]}, keep=10)
    try:
        assert srv.req("POST", init["complete_url"], token=init["session_token"]).status_code == 200
        status = slow.finish()
    finally:
        slow.close()
    assert status == (403 if srv.backend == "folder" else 200)
    assert srv.req("GET", f"/file/{q(project + '/a/v1/f.bin')}").content == data
    v1 = f"{project}/a/v1/"
    assert listing(srv, v1) == [f"{v1}..manifest", f"{v1}..summary", f"{v1}f.bin"]


def test_staged_bytes_are_invisible_until_complete(srv: Server, project: str) -> None:
    data = b"not yet"
    init = start(srv, "alice", project, "a", "v1", {"f.txt": data}).json()
    pre = presigned(srv, init, "f.txt")
    assert _put(pre, data) == 200
    assert srv.req("GET", f"/file/{q(project + '/a/v1/f.txt')}").status_code == 404
    assert listing(srv, f"{project}/a/v1/") == [f"{project}/a/v1/..manifest", f"{project}/a/v1/..summary"]
    assert get_json(srv, f"{project}/..usage")["total"] == 0
    assert [size for _, size in staged(srv, project)] == [len(data)]
    assert srv.req("POST", init["complete_url"], token=init["session_token"]).status_code == 200
    assert srv.req("GET", f"/file/{q(project + '/a/v1/f.txt')}").content == data
    assert staged(srv, project) == [] and get_json(srv, f"{project}/..usage")["total"] == len(data)
    # and abort drops what a session staged
    init = start(srv, "alice", project, "a", "v2", {"g.txt": data}).json()
    pre = presigned(srv, init, "g.txt")
    assert _put(pre, data) == 200
    assert len(staged(srv, project)) == 1
    assert srv.req("POST", init["abort_url"], token=init["session_token"]).status_code == 200
    assert staged(srv, project) == []


# --- bodies are bounded by the declared size --------------------------------------------------------


def _disk_usage(root: Path) -> int:
    total = 0
    for dirpath, _dirs, files in os.walk(root):
        for name in files:
            with contextlib.suppress(FileNotFoundError):
                total += os.lstat(os.path.join(dirpath, name)).st_blocks * 512
    return total


def test_body_past_declared_size_is_refused_and_never_stored(srv: Server, project: str) -> None:
    big = 100 << 20
    zeros = b"\0" * big
    quota = {"baseline": 100, "growth_rate": 0}
    assert srv.req("PUT", f"/quota/{project}", user="admin", json=quota).status_code == 200
    # The declared md5 is that of the 100 MiB, so only the size can refuse them.
    entry = {"type": "simple", "path": "tiny", "md5sum": hashlib.md5(zeros).hexdigest(), "size": 10}
    r = srv.req("POST", f"/upload/start/{project}/a/v1", user="bob", json={"files": [entry]})
    assert r.status_code == 200, r.text
    init = r.json()
    pre = presigned(srv, init, "tiny")
    headers = {"Content-MD5": pre["md5sum_base64"]}
    if srv.backend == "folder":
        before = _disk_usage(srv.root)
        # with a Content-Length: refused before a byte is read
        slow = SlowPut(pre["url"], b"", headers, keep=0, length=big)
        try:
            assert slow.status() == 413
        finally:
            slow.close()
        # without one (chunked): reading stops at size + 1
        def chunks() -> Iterator[bytes]:
            for _ in range(100):
                yield zeros[: 1 << 20]
                assert _disk_usage(srv.root) - before < 1 << 20

        try:
            r = requests.put(pre["url"], data=chunks(), headers=headers, timeout=30)
            assert r.status_code == 413 and "declared size of 10 bytes" in r.json()["reason"]
        except requests.ConnectionError:
            pass  # the server answered 413 and closed while we were still sending
        assert _disk_usage(srv.root) - before < 1 << 20
    else:
        # the presigned URL signs Content-Length: the store refuses any other size itself
        r = requests.put(pre["url"], data=zeros, headers=headers, timeout=60)
        assert r.status_code == 403, r.text
    assert staged(srv, project) == []
    assert srv.req("HEAD", f"/file/{q(project + '/a/v1/tiny')}").status_code == 404
    r = srv.req("POST", init["complete_url"], token=init["session_token"])
    assert r.status_code == 400 and "should have a file" in r.json()["reason"]
    assert get_json(srv, f"{project}/..usage")["total"] == 0
    assert srv.req("POST", init["abort_url"], token=init["session_token"]).status_code == 200
    # a body of the right size but other bytes is refused too (folder: by us; S3: BadDigest)
    r = start(srv, "bob", project, "a", "v2", {"ten": b"0123456789"})
    init = r.json()
    pre = presigned(srv, init, "ten")
    r = requests.put(pre["url"], data=b"9876543210", headers={"Content-MD5": pre["md5sum_base64"]}, timeout=10)
    assert r.status_code == 400 and staged(srv, project) == []
    short = requests.put(pre["url"], data=b"012345678", headers={"Content-MD5": pre["md5sum_base64"]}, timeout=10)
    assert short.status_code in (400, 403) and staged(srv, project) == []
    assert srv.req("POST", init["abort_url"], token=init["session_token"]).status_code == 200


# --- slow clients cannot exhaust the server ----------------------------------------------------------


@pytest.fixture(scope="module")
def impatient_srv(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """Folder backend only: S3 upload bodies never reach the server."""
    with serving("folder", tmp_path_factory.mktemp("registry-idle"), ["--idle-timeout", "3"]) as server:
        yield server


@pytest.fixture(scope="module", params=BACKENDS)
def short_lock_srv(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with serving(request.param, tmp_path_factory.mktemp("registry-short"), ["--lock-ttl", "4"]) as server:
        yield server


def _reads_answer(srv: Server, project: str, within: float) -> None:
    for path in ("/list?prefix=", f"/file/{q(project + '/..permissions')}", "/_selenite/stats",
                 f"/file/{q(project + '/nothing')}"):
        t0 = time.monotonic()
        r = requests.get(srv.url + path, timeout=within)
        assert r.status_code < 500 and time.monotonic() - t0 < within, path


def test_stalled_puts_do_not_freeze_reads(impatient_srv: Server) -> None:
    srv = impatient_srv
    project = f"p-{uuid.uuid4().hex[:10]}"
    owned = {"permissions": {"owners": ["alice"]}}
    assert srv.req("POST", f"/create/{project}", user="admin", json=owned).status_code == 200
    files = {f"f{i:02d}": b"%02d-payload" % i for i in range(66)}
    init = start(srv, "alice", project, "a", "v1", files).json()
    urls = {path: presigned(srv, init, path) for path in files}
    slow: list[SlowPut] = []
    try:
        t0 = time.monotonic()
        for i in range(64):  # 64 stalled PUTs on 64 URLs of one session: each is accepted and waits
            pre = urls[f"f{i:02d}"]
            slow.append(SlowPut(pre["url"], files[f"f{i:02d}"], {"Content-MD5": pre["md5sum_base64"]}))
        _reads_answer(srv, project, within=2.0)  # public reads answer while they all stall
        assert not any(s.answered(within=0.01) for s in slow)
        extra = SlowPut(urls["f64"]["url"], files["f64"], {"Content-MD5": urls["f64"]["md5sum_base64"]})
        slow.append(extra)
        assert extra.status() == 429  # the session's limit of PUTs in progress
        pre = urls["f00"]
        same = [SlowPut(pre["url"], files["f00"], {"Content-MD5": pre["md5sum_base64"]}) for _ in range(45)]
        slow += same
        assert {s.status() for s in same} == {409}  # one PUT at a time per URL
        _reads_answer(srv, project, within=2.0)
        # the idle deadline ends the stalled ones (408, or the connection layer closes them first),
        # and nothing of them stays on disk
        assert {s.status(timeout=10) for s in slow[:64]} <= {408, 0}
        assert time.monotonic() - t0 < 15
        deadline = time.monotonic() + 5  # (the server may close a socket a moment before it cleans up)
        while list((srv.root / "tmp").iterdir()) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert list((srv.root / "tmp").iterdir()) == [] and staged(srv, project) == []
    finally:
        for s in slow:
            s.close()
    # the URLs still work for a well-behaved client
    pre = urls["f65"]
    assert _put(pre, files["f65"]) == 200
    assert srv.req("POST", init["abort_url"], token=init["session_token"]).status_code == 200


def test_staged_bytes_of_an_expired_session_are_swept(short_lock_srv: Server) -> None:
    srv = short_lock_srv
    project = f"p-{uuid.uuid4().hex[:10]}"
    owned = {"permissions": {"owners": ["alice"]}}
    assert srv.req("POST", f"/create/{project}", user="admin", json=owned).status_code == 200
    data = b"abandoned"
    init = start(srv, "alice", project, "a", "v1", {"f.txt": data}).json()
    pre = presigned(srv, init, "f.txt")
    assert _put(pre, data) == 200
    assert len(staged(srv, project)) == 1
    # no request at all: the server's own sweep removes them once the lock (4 s) has expired
    deadline = time.monotonic() + 15
    while staged(srv, project) and time.monotonic() < deadline:
        time.sleep(0.5)
    assert staged(srv, project) == []
    assert srv.req("POST", init["complete_url"], token=init["session_token"]).status_code == 403
    assert srv.req("GET", f"/file/{q(project + '/a/v1/f.txt')}").status_code == 404
