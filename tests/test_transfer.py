"""transfer: downloads into the cache, retried when bytes arrive damaged, counted once on the progress display."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import cast

import pytest

from selenite import output, transfer
from selenite.cache import Cache
from selenite.errors import ChecksumMismatch
from selenite.keys import Key
from selenite.registry import RegistryClient
from tests.support.files import md5

DATA = b"the real bytes\n" * 1000


class _Flaky:
    """A registry whose first answers for a file are damaged on the way (same size, other bytes)."""

    batching = False

    def __init__(self, damaged: int) -> None:
        self.damaged, self.calls = damaged, 0

    def iter_file(self, source: str, size: int) -> Iterator[bytes]:
        self.calls += 1
        body = DATA if self.calls > self.damaged else bytes(len(DATA))
        yield body[: len(body) // 2]
        yield body[len(body) // 2 :]


class _Recorded(output.Transfer):
    def __init__(self) -> None:
        super().__init__(None, None, None)
        self.bytes, self.files = 0, 0

    def advance_bytes(self, n: int) -> None:
        self.bytes += n

    def file_done(self) -> None:
        self.files += 1


@pytest.fixture
def shown(monkeypatch: pytest.MonkeyPatch) -> _Recorded:
    recorded = _Recorded()

    @contextlib.contextmanager
    def fake_transfer(label: str, files: int, total_bytes: int) -> Iterator[output.Transfer]:
        yield recorded

    monkeypatch.setattr(transfer.output, "transfer", fake_transfer)
    return recorded


def test_a_damaged_attempt_is_retried_and_its_bytes_are_not_counted_twice(tmp_path: Path, shown: _Recorded) -> None:
    key = Key(md5(DATA), len(DATA), ".txt")
    client = _Flaky(damaged=2)
    cache = Cache(tmp_path / "cache")
    assert transfer.fetch_objects(cast(RegistryClient, client), cache, {key: "p/a/v1/x.txt"}) == 1
    assert client.calls == 3 and cache.has(key)
    assert (shown.bytes, shown.files) == (len(DATA), 1)


def test_bytes_damaged_on_every_attempt_are_refused(tmp_path: Path, shown: _Recorded) -> None:
    key = Key(md5(DATA), len(DATA), ".txt")
    client = _Flaky(damaged=transfer.DOWNLOAD_ATTEMPTS)
    cache = Cache(tmp_path / "cache")
    with pytest.raises(ChecksumMismatch):
        transfer.fetch_objects(cast(RegistryClient, client), cache, {key: "p/a/v1/x.txt"})
    assert client.calls == transfer.DOWNLOAD_ATTEMPTS and not cache.has(key)
    assert (shown.bytes, shown.files) == (0, 0)
