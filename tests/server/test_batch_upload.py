"""POST /_selenite/upload-batch (selenite's batched upload of small files), both backends: files of an
upload session staged in one request, all or nothing, each checked against the manifest and its
bytes, within the session's lock; a batch and presigned PUTs mix in one upload."""

from __future__ import annotations

import hashlib
import json
import uuid

import pytest
from srvhelpers import Server, get_json, put_files, q, start

from selenite.server import batchupload
from selenite.server.errors import HttpError


def _framed(files: dict[str, bytes], md5s: dict[str, str] | None = None) -> bytes:
    out = b""
    for path, data in files.items():
        md5 = (md5s or {}).get(path, hashlib.md5(data).hexdigest())
        out += json.dumps({"path": path, "size": len(data), "md5sum": md5}).encode() + b"\n" + data
    return out


def test_batched_upload_stages_checked_files_within_the_session(srv: Server, project: str) -> None:
    files = {"a.txt": b"alpha\n", "d/b.csv": b"x,y\n1,2\n", "c.bin": b"\0" * 5000, "e.txt": b"presigned\n"}
    r = start(srv, "alice", project, "ds", "v1", files)
    assert r.status_code == 200, r.text
    init = r.json()
    token = init["session_token"]
    route = f"/_selenite/upload-batch/{q(project)}/ds/v1"

    def post(body: bytes, tok: str | None = token) -> tuple[int, str]:
        resp = srv.req("POST", route, token=tok, data=body)
        return resp.status_code, resp.text

    assert post(_framed({"a.txt": files["a.txt"]}), tok=None)[0] == 401
    assert post(_framed({"a.txt": files["a.txt"]}), tok=str(uuid.uuid4()))[0] == 403  # not this session
    # Refusals stage nothing, even for the good files of the same batch.
    refused = [
        _framed({"a.txt": files["a.txt"], "d/b.csv": b"X,Y\n1,2\n"},  # wrong bytes for the declared md5
                {"d/b.csv": hashlib.md5(files["d/b.csv"]).hexdigest()}),
        _framed({"a.txt": files["a.txt"], "other.txt": b"?"}),  # not a file of this upload
        _framed({"a.txt": b"ALPHA\n"}),  # right framing, other content than the manifest's
        _framed({"a.txt": files["a.txt"]}) * 2,  # twice the same path
        _framed({"a.txt": files["a.txt"]})[:-2],  # cut short
        b"not a header\n",
    ]
    for body in refused:
        status, text = post(body)
        assert status == 400, text
    assert srv.req("POST", init["complete_url"], token=token).status_code == 400  # nothing staged yet

    status, text = post(_framed({k: files[k] for k in ("a.txt", "d/b.csv", "c.bin")}))
    assert (status, json.loads(text)) == (200, {"staged": 3})
    put_files(srv, {**init, "file_urls": [u for u in init["file_urls"] if u["path"] == "e.txt"]}, files)
    assert srv.req("POST", init["complete_url"], token=token).status_code == 200
    for path, data in files.items():
        resp = srv.req("GET", f"/file/{q(f'{project}/ds/v1/{path}')}")
        assert resp.content == data, path
    assert get_json(srv, f"{project}/ds/v1/..manifest")["c.bin"]["size"] == 5000
    assert post(_framed({"a.txt": files["a.txt"]}))[0] == 403  # the session ended with complete


def test_batch_limits_are_checked_before_anything_is_staged() -> None:
    one = _framed({"x": b""})
    with pytest.raises(HttpError) as e:
        batchupload.parse(one * (batchupload.MAX_FILES + 1))
    assert e.value.status == 413
    assert [(p, bytes(d)) for p, _, d in batchupload.parse(_framed({"x": b"1", "y": b"22"}))] == [("x", b"1"),
                                                                                                   ("y", b"22")]
