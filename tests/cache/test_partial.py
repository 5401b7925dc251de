"""Resumed downloads of large objects (transfer + cache/partial.py), against a registry double that
counts the bytes it sends: an interrupted download keeps its bytes in the cache's partial file and
the next attempt (or run) asks only for the rest; whatever is wrong with a partial costs a download
from zero, never a wrong object."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path
from typing import cast

import pytest

from selenite import output, transfer
from selenite.cache import RESUMABLE, Cache
from selenite.cache import partial as partial_module
from selenite.errors import ChecksumMismatch, RegistryError
from selenite.keys import Key
from selenite.registry import RegistryClient
from tests.support.files import md5

DATA = os.urandom(RESUMABLE + (1 << 20) + 3)
KEY = Key(md5(DATA), len(DATA), ".bin")
HALF = len(DATA) // 2
MiB = 1 << 20


class _Registry:
    """Serves DATA whole or from a byte on (unless ``ranges`` is False, as a gypsum worker);
    ``break_after`` bytes into the first answer the connection breaks."""

    batching = False

    def __init__(self, ranges: bool | int = True, break_after: int | None = None, data: bytes = DATA) -> None:
        self.ranges, self.break_after, self.data = ranges, break_after, data
        self.sent, self.asked = 0, []

    def _stream(self, first: int) -> Iterator[bytes]:
        for at in range(first, len(self.data), MiB):
            if self.break_after is not None and self.sent >= self.break_after:
                self.break_after = None
                raise RegistryError("download broke: connection reset")
            block = self.data[at : at + MiB]
            self.sent += len(block)
            yield block

    def iter_file(self, source: str, size: int) -> Iterator[bytes]:
        self.asked.append(0)
        return self._stream(0)

    def iter_range(self, source: str, size: int, first: int, last: int | None = None) -> tuple[int, Iterator[bytes]]:
        if self.ranges == 416:
            raise RegistryError("registry refused file: 416 range not satisfiable", 416)
        if not self.ranges:
            return 0, self.iter_file(source, size)
        self.asked.append(first)
        return first, self._stream(first)


class _Recorded(output.Transfer):
    def __init__(self) -> None:
        super().__init__(None, None, None)
        self.bytes = 0

    def advance_bytes(self, n: int) -> None:
        self.bytes += n


@pytest.fixture
def shown(monkeypatch: pytest.MonkeyPatch) -> _Recorded:
    recorded = _Recorded()

    @contextlib.contextmanager
    def fake_transfer(label: str, files: int, total_bytes: int) -> Iterator[output.Transfer]:
        yield recorded

    monkeypatch.setattr(transfer.output, "transfer", fake_transfer)
    return recorded


def fetch(cache: Cache, reg: _Registry) -> None:
    transfer.fetch_objects(cast(RegistryClient, reg), cache, {KEY: "p/a/v1/x.bin"})
    assert cache.object_path(KEY).read_bytes() == DATA
    assert not cache.partial_path(KEY).exists()


def test_a_broken_download_resumes_in_the_next_attempt(tmp_path: Path, shown: _Recorded) -> None:
    cache, reg = Cache(tmp_path / "cache"), _Registry(break_after=3 * MiB)
    fetch(cache, reg)
    assert reg.asked == [0, 3 * MiB] and reg.sent == len(DATA) and shown.bytes == len(DATA)


@pytest.mark.parametrize(("planted", "ranges", "asked", "sent"), [
    (DATA[:HALF], True, [HALF], len(DATA) - HALF),  # an earlier run's bytes: only the rest
    (DATA[:HALF], False, [0], len(DATA)),  # a registry that ignores Range: from zero
    (DATA[:HALF], 416, [0], len(DATA)),  # one whose object is shorter than the partial: from zero
    (DATA, True, [], 0),  # complete, killed before its rename: installed as it is
    (bytes(HALF), True, [HALF, 0], len(DATA) - HALF + len(DATA)),  # wrong bytes: the md5 fails, from zero
    (DATA + b"more", True, [0], len(DATA)),  # longer than the object: dropped
])
def test_a_partial_left_by_an_earlier_run(tmp_path: Path, shown: _Recorded, planted: bytes, ranges: bool | int,
                                          asked: list[int], sent: int) -> None:
    cache, reg = Cache(tmp_path / "cache"), _Registry(ranges=ranges)
    cache.partial_path(KEY).write_bytes(planted)
    fetch(cache, reg)
    assert (reg.asked, reg.sent) == (asked, sent)


def test_more_bytes_than_the_key_holds_are_refused(tmp_path: Path, shown: _Recorded) -> None:
    cache, reg = Cache(tmp_path / "cache"), _Registry(data=DATA + b"x" * MiB)
    with pytest.raises(ChecksumMismatch, match="more than"):
        transfer.fetch_objects(cast(RegistryClient, reg), cache, {KEY: "p/a/v1/x.bin"})
    assert not cache.has(KEY) and shown.bytes == 0


def test_a_partial_another_process_appends_to_is_left_alone(tmp_path: Path, shown: _Recorded) -> None:
    cache, reg = Cache(tmp_path / "cache"), _Registry()
    cache.partial_path(KEY).write_bytes(DATA[:HALF])
    other = Cache(tmp_path / "cache")
    with other.partial(KEY) as held:  # the lock is per open file: another Cache stands for another process
        assert held is not None
        with cache.partial(KEY) as mine:
            assert mine is None
        transfer.fetch_objects(cast(RegistryClient, reg), cache, {KEY: "p/a/v1/x.bin"})
        assert reg.asked == [0] and cache.object_path(KEY).read_bytes() == DATA
        assert cache.partial_path(KEY).read_bytes() == DATA[:HALF]


def test_a_partial_installed_meanwhile_is_never_appended_to(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The race a lock alone cannot close: another process installs (renames) the partial between
    our open and our flock. The descriptor then names the object: it must be let go, never appended to."""
    cache = Cache(tmp_path / "cache")
    path = cache.partial_path(KEY)
    path.write_bytes(DATA[:HALF])
    real_flock = partial_module.fcntl.flock
    calls = []

    def flock_after_an_install(fd: int, op: int) -> None:
        calls.append(fd)
        if len(calls) == 1:
            os.rename(path, tmp_path / "installed")
        real_flock(fd, op)

    monkeypatch.setattr(partial_module.fcntl, "flock", flock_after_an_install)
    with cache.partial(KEY) as part:
        assert part is not None and part.held() == 0 and len(calls) == 2  # a new, empty partial
    assert (tmp_path / "installed").read_bytes() == DATA[:HALF]
