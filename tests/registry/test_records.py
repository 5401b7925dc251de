"""registry.records: the batched answer of POST /_selenite/objects, read without trusting it."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

import pytest

from selenite.errors import RegistryError
from selenite.registry.records import Records

MiB = 1 << 20


def _head(key: str, size: int) -> bytes:
    return json.dumps({"key": key, "size": size}).encode() + b"\n"


def test_records_split_across_chunks_and_absent_keys() -> None:
    body = _head("a", 3) + b"abc" + _head("gone", -1) + _head("b", 0)
    records = Records(iter([body[i : i + 5] for i in range(0, len(body), 5)]))
    assert records.header() == ("a", 3) and records.read(3) == b"abc"
    assert records.header() == ("gone", -1)
    assert records.header() == ("b", 0) and records.read(0) == b""


@pytest.mark.parametrize("head", [b"not json\n", b'{"key": 1, "size": 2}\n', b'{"key": "k", "size": -2}\n',
                                  b'{"key": "k", "size": true}\n', b'{"key": "k"}\n', b"x" * 70000])
def test_malformed_headers_are_refused(head: bytes) -> None:
    with pytest.raises(RegistryError, match="malformed batched answer"):
        Records(iter([head])).header()


def test_an_answer_that_ends_early_is_refused() -> None:
    records = Records(iter([_head("a", 10) + b"abc"]))
    records.header()
    with pytest.raises(RegistryError, match="ended early"):
        records.read(10)


def test_batched_records_are_read_in_linear_time() -> None:
    """Many small network chunks for one record: each must not re-copy what came before."""
    size = 4 * MiB
    data = b"y" * size

    def chunks() -> Iterator[bytes]:
        yield _head("k", size)
        for i in range(0, size, 256):
            yield data[i : i + 256]

    records = Records(chunks())
    start = time.monotonic()
    assert records.header() == ("k", size)
    assert records.read(size) == data
    assert time.monotonic() - start < 3  # quadratic: 16k chunks x 2 MiB copied on average
