"""`Range` on GET /file against a real server, on every backend: 206 with Content-Range for one
range, 416 for a range past the end, the whole object (200) for headers that are ignored, and the
bytes counted in /_selenite/stats are the bytes sent."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest
from srvhelpers import Server, q, s3_storage, upload

from selenite.server.errors import RangeNotSatisfiable
from selenite.server.storage.ranges import ByteRange, parse_range, window

BIG = bytes(range(256)) * (3 * 4096 + 7)  # 3 MiB + a bit: streamed in several chunks


def test_ranges(srv: Server, project: str) -> None:
    upload(srv, "alice", project, "a", "v1", {"big.bin": BIG, "small.txt": b"0123456789", "empty": b""})
    size = len(BIG)
    big = f"/file/{q(project + '/a/v1/big.bin')}"

    def get(path: str, value: str) -> tuple[int, bytes, Mapping[str, str]]:
        r = srv.req("GET", path, headers={"Range": value})
        return r.status_code, r.content, r.headers

    cases = {
        "bytes=0-0": (0, 0),  # first byte
        f"bytes={size - 1}-{size - 1}": (size - 1, size - 1),  # last byte
        "bytes=1048570-2097160": (1048570, 2097160),  # middle, across chunk borders
        "bytes=-5": (size - 5, size - 1),  # suffix
        f"bytes=-{size + 10}": (0, size - 1),  # a suffix longer than the object: all of it
        "bytes=2000000-": (2000000, size - 1),  # open-ended
        f"bytes=5-{size * 2}": (5, size - 1),  # last past the end: up to the end
    }
    for value, (first, last) in cases.items():
        before = srv.stats()["file_get_bytes"]
        status, body, headers = get(big, value)
        assert status == 206, value
        assert body == BIG[first : last + 1], value
        assert headers["Content-Range"] == f"bytes {first}-{last}/{size}", value
        assert headers["Content-Length"] == str(last - first + 1) and headers["Accept-Ranges"] == "bytes"
        assert headers["ETag"].strip('"') and headers["Content-Type"] == "application/octet-stream"
        assert "Content-Range" in headers["Access-Control-Expose-Headers"]
        assert srv.stats()["file_get_bytes"] - before == last - first + 1, value

    small = f"/file/{q(project + '/a/v1/small.txt')}"
    assert get(small, "bytes=2-4")[:2] == (206, b"234")
    for value in (f"bytes={size}-", f"bytes={size + 5}-{size + 9}", "bytes=-0"):  # out of range
        status, body, headers = get(big, value)
        assert status == 416 and headers["Content-Range"] == f"bytes */{size}", value
        assert b"range not satisfiable" in body
    status, _, headers = get(f"/file/{q(project + '/a/v1/empty')}", "bytes=0-")
    assert status == 416 and headers["Content-Range"] == "bytes */0"
    # Ignored: malformed, other units, several ranges, last before first. The whole object.
    for value in ("bytes=abc", "bytes=", "bytes=-", "items=0-1", "bytes=0-1,5-6", "bytes=9-3", "bytes=1-2-3"):
        status, body, headers = get(small, value)
        assert (status, body) == (200, b"0123456789"), value
        assert "Content-Range" not in headers and headers["Accept-Ranges"] == "bytes"
    assert get(small, "bytes=" + "9" * 30 + "-")[0] == 200  # numbers beyond any size: ignored
    head = srv.req("HEAD", big)
    assert head.headers["Accept-Ranges"] == "bytes" and head.headers["Content-Length"] == str(size)
    assert get(f"/file/{q(project + '/a/v1/nope')}", "bytes=0-1")[0] == 404


@pytest.mark.parametrize(("value", "expected"), [
    ("bytes=0-9", ByteRange(0, 9)), ("bytes=7-", ByteRange(7, None)), ("bytes=-3", ByteRange(None, 3)),
    ("Bytes=1-2", ByteRange(1, 2)), (None, None), ("bytes=0-1, 3-4", None), ("bytes=3-2", None),
])
def test_parse_range(value: str | None, expected: ByteRange | None) -> None:
    assert parse_range(value) == expected


def test_span_and_window() -> None:
    assert ByteRange(None, 3).span(2) == (0, 1) and ByteRange(None, 3).span(0) is None
    assert ByteRange(4, None).span(4) is None and ByteRange(0, 100).span(10) == (0, 9)
    chunks = [b"abc", b"defg", b"hij"]
    assert b"".join(window(iter(chunks), 2, 6)) == b"cdefgh"
    assert b"".join(window(iter(chunks), 0, 10)) == b"abcdefghij"
    assert b"".join(window(iter(chunks), 9, 5)) == b"j"


class _IgnoresRange:
    """An S3 client whose store ignores Range (answers the whole object, no ContentRange), as a
    store may: the backend must cut the range out itself."""

    def __init__(self, client: Any) -> None:
        self._client = client

    def get_object(self, **kw: Any) -> Any:
        kw.pop("Range", None)
        return self._client.get_object(**kw)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)


def test_s3_store_that_ignores_ranges() -> None:
    storage = s3_storage()
    data = bytes(range(256)) * 9000  # over two chunks of the backend's reads
    storage.put_bytes("p/a/v1/x.bin", data)
    storage.client = _IgnoresRange(storage.client)
    for first, last in ((0, 0), (1_000_000, 2_100_000), (len(data) - 3, None)):
        stream = storage.open("p/a/v1/x.bin", ByteRange(first, last))
        assert stream is not None
        end = len(data) - 1 if last is None else last
        assert stream.span == (first, end) and stream.info.size == len(data)
        assert b"".join(stream.chunks) == data[first : end + 1]
    with pytest.raises(RangeNotSatisfiable):
        storage.open("p/a/v1/x.bin", ByteRange(len(data), None))
