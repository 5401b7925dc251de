"""Downloading objects into the cache, and finding where the registry holds them.

Used by clone, get, drop and fsck --repair: parallel threads, a progress bar on a terminal, every
object checked against its key while it streams in, Ctrl-C stops at once and leaves no partial
object. A large object's download that is interrupted stays in the cache's ``tmp/`` and the next
one resumes it (``cache/partial.py``).
"""

from __future__ import annotations

import threading
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any

from selenite import lookup, output, registry
from selenite.cache import RESUMABLE, Cache, registry_id
from selenite.errors import ChecksumMismatch, DownloadStopped, FatalError, RegistryError, UnsafePath
from selenite.keys import Key
from selenite.manifests import FileSpec, parse_manifest
from selenite.taskpool import run_all
from selenite.tree.origin import Origin

DOWNLOAD_ATTEMPTS = 3
# Objects up to this size travel many to a request (``RegistryClient.get_objects``): per-request
# costs, on both sides, are most of the time of a clone of thousands of small files.
BATCH_OBJECT_MAX = 256 * 1024
BATCH_KEYS = 64
BATCH_BYTES = 4 << 20
# Batched requests running at once, whatever ``jobs`` says: each batch is mostly Python work (records
# read, objects written and installed, a syscall each releasing the GIL), so more threads at it only
# contend. A small-file clone (2,000 x 4 KiB, 32 batches) made 161k futex calls with 8 at once,
# 21k with 4 (strace -c -f of selenite clone; 240k syscalls in all, then 92k).
BATCH_PARALLEL = 4
SIGS_AT_ONCE = 64  # more keys than this: the cache's signatures are read in one query


def _stoppable(chunks: Iterable[bytes], stop: threading.Event) -> Iterator[bytes]:
    for block in chunks:
        if stop.is_set():
            raise DownloadStopped
        yield block


def fetch_objects(
    client: registry.RegistryClient, cache: Cache, wanted: Mapping[Key, str], jobs: int = 8, replace: bool = False
) -> int:
    """Make every key of ``wanted`` (key -> bucket key holding its bytes) present in the cache.

    Keys already present (or linkable from the same content under another extension) are not
    downloaded; each distinct content is downloaded once. Returns the number of downloads.
    """
    groups: dict[tuple[str, int], list[Key]] = defaultdict(list)
    for key in wanted:
        groups[key.content()].append(key)
    todo: list[Key] = []
    # Many keys: every signature in one query, not one query per key (a few: one each is cheaper
    # than loading a big cache's table).
    sigs = cache.signatures() if len(wanted) > SIGS_AT_ONCE else None
    for keys in groups.values():
        if replace or not any(cache.ensure_local(k, sigs) for k in keys):
            todo.append(keys[0])
    if todo:
        with output.transfer("get", len(todo), sum(k.size for k in todo)) as progress:
            _Downloads(client, cache, wanted, progress, replace).run(todo, jobs)
    _link_rest(cache, groups, sigs is not None)
    return len(todo)


class _Shown:
    """The bytes one download attempt added to the progress display, taken back when it fails
    (the next attempt counts them again)."""

    def __init__(self, progress: output.Transfer) -> None:
        self._progress, self._n = progress, 0

    def __call__(self, n: int) -> None:
        self._n += n
        self._progress.advance_bytes(n)

    def take_back(self) -> None:
        self._progress.advance_bytes(-self._n)
        self._n = 0


class _Downloads:
    """One ``fetch_objects`` call's downloads, run on a thread pool: large objects one to a
    request, small ones batched. ``stop`` makes every running download give up at its next chunk."""

    def __init__(self, client: registry.RegistryClient, cache: Cache, wanted: Mapping[Key, str],
                 progress: output.Transfer, replace: bool) -> None:
        self.client, self.cache, self.wanted, self.progress, self.replace = client, cache, wanted, progress, replace
        self.stop = threading.Event()
        self._batch_slots = threading.BoundedSemaphore(BATCH_PARALLEL)

    def run(self, todo: list[Key], jobs: int) -> None:
        small = [k for k in todo if k.size <= BATCH_OBJECT_MAX]
        tasks: list[tuple[Callable[[Any], None], Any]] = [(self.one, k) for k in todo if k.size > BATCH_OBJECT_MAX]
        if len(small) > 1:
            tasks += [(self.batch, b) for b in _batches(small)]
        else:
            tasks += [(self.one, k) for k in small]
        # One directory fsync per batch, not per object: most of a small-file clone's time otherwise.
        # A failure stops running downloads at their next chunk; their temp files are removed.
        with self.cache.deferred_dir_sync():
            run_all(tasks, jobs, self.stop, "selenite-get")

    def one(self, key: Key) -> None:
        source = self.wanted[key]
        for attempt in range(DOWNLOAD_ATTEMPTS):
            shown = _Shown(self.progress)
            try:
                if key.size >= RESUMABLE:
                    self._resumable(key, source, shown)
                else:
                    self._whole(key, source, shown)
                break
            except ChecksumMismatch:
                shown.take_back()
                # Bytes damaged on the way (a flaky proxy or link) come right when asked again;
                # a registry that stores wrong bytes fails every attempt and the error stands.
                if attempt == DOWNLOAD_ATTEMPTS - 1:
                    raise
            except RegistryError as e:
                shown.take_back()
                # 4xx will not get better by asking again; a broken stream or 5xx may.
                if (e.status is not None and e.status < 500) or attempt == DOWNLOAD_ATTEMPTS - 1:
                    raise
        self.progress.file_done()

    def _whole(self, key: Key, source: str, shown: _Shown) -> None:
        self.cache.put_stream(key, _stoppable(self.client.iter_file(source, key.size), self.stop), shown,
                              what=f"registry sent wrong bytes for {source}", replace=self.replace)

    def _resumable(self, key: Key, source: str, shown: _Shown) -> None:
        """A large object through its partial file (``cache/partial.py``): the bytes an interrupted
        download left there are kept, and only the rest is asked for with ``Range``; a registry
        that sends the whole object instead (a gypsum worker) starts it over."""
        with self.cache.partial(key) as part:
            if part is None:  # another process is appending to it: a temp file of our own
                self._whole(key, source, shown)
                return
            have = part.held()
            chunks: Iterator[bytes] | None = iter(()) if have == key.size else None
            if 0 < have < key.size:
                try:
                    at, chunks = self.client.iter_range(source, key.size, have)
                except RegistryError as e:
                    if e.status != 416:
                        raise
                    at, chunks = 0, None  # the object holds fewer bytes than the partial: start over
                if at != have:
                    part.restart()
            shown(part.digest.size)
            part.append(_stoppable(chunks or self.client.iter_file(source, key.size), self.stop), shown)
            part.install(f"registry sent wrong bytes for {source}", replace=self.replace)

    def batch(self, keys: list[Key]) -> None:
        """Small objects in one request; whatever it did not deliver is fetched one by one."""
        with self._batch_slots:  # a waiting thread is blocked, not runnable: no GIL contention
            if self.stop.is_set():  # another task failed while this one waited
                raise DownloadStopped
            stored = self._batched(keys) if self.client.batching else 0
        for key in keys[stored:]:
            self.one(key)

    def _batched(self, keys: list[Key]) -> int:
        """Store what one batched request delivers of ``keys``, in order; the number stored."""
        records = self.client.get_objects([self.wanted[k] for k in keys], [k.size for k in keys])
        got: list[tuple[Key, bytes]] = []
        stored = 0
        try:
            # Fewer records than keys is an answer cut short: the rest are fetched one by one.
            for key, (_, data) in zip(keys, records, strict=False):
                if self.stop.is_set():
                    raise DownloadStopped
                if data is None:
                    break  # absent: its own GET reports it as usual
                got.append((key, data))
            self.cache.put_many(got, replace=self.replace)  # one disk flush for the lot
            stored = len(got)
        except (RegistryError, ChecksumMismatch) as e:
            # Wrong bytes or a broken stream: every object of the lot is fetched again alone.
            if not got and isinstance(e, RegistryError) and e.status in (404, 405, 501):
                self.client.batching = False  # a gypsum worker: no batched route
        finally:
            records.close()
        for _key, data in got[:stored]:
            self.progress.advance_bytes(len(data))
            self.progress.file_done()
        return stored


def _batches(keys: list[Key]) -> list[list[Key]]:
    out: list[list[Key]] = []
    cur: list[Key] = []
    size = 0
    for k in keys:
        if cur and (len(cur) == BATCH_KEYS or size + k.size > BATCH_BYTES):
            out.append(cur)
            cur, size = [], 0
        cur.append(k)
        size += k.size
    if cur:
        out.append(cur)
    return out


def _link_rest(cache: Cache, groups: Mapping[tuple[str, int], list[Key]], many: bool) -> None:
    sigs = cache.signatures() if many else None  # the objects just stored are signed by now
    for keys in groups.values():
        for k in keys:
            if not cache.ensure_local(k, sigs):
                raise FatalError(f"could not store {k.name} in the cache")


def resolve_sources(
    client: registry.RegistryClient | None, cache: Cache, origin: Origin, keys: Iterable[Key],
    strict: bool = True,
) -> dict[Key, str]:
    """Where the registry holds each key's bytes: the origin version's manifest, then other cached
    manifests of the asset, then (network) the asset's other versions. Keys found nowhere raise
    when ``strict``; otherwise they are left out of the answer."""
    need = set(keys)
    out: dict[Key, str] = {}
    by_content: dict[tuple[str, int], str] = {}
    reg = registry_id(origin.url)

    def absorb(specs: Mapping[str, FileSpec]) -> None:
        for spec in specs.values():
            by_content.setdefault(spec.key.content(), spec.source)
        for k in list(need):
            src = by_content.get(k.content())
            if src is not None:
                out[k] = src
                need.discard(k)

    def manifest_of(version: str, fetch: bool) -> dict[str, FileSpec] | None:
        m = lookup.manifest_if_any(client if fetch else None, cache, reg, origin.project, origin.asset, version)
        if m is None:
            return None
        try:
            return parse_manifest(m, origin.project, origin.asset, version)
        except UnsafePath:
            if version == origin.version:
                raise
            return None  # another version no tree could hold: not where this tree's bytes come from

    first = manifest_of(origin.version, fetch=True)
    if first is not None:
        absorb(first)
    for v in cache.manifest_versions(reg, origin.project, origin.asset):
        if not need:
            break
        m = manifest_of(v, fetch=False)
        if m is not None:
            absorb(m)
    if need and client is not None:
        for v in reversed(client.list_versions(origin.project, origin.asset)):
            if not need:
                break
            m = manifest_of(v, fetch=True)
            if m is not None:
                absorb(m)
    if need and strict:
        names = ", ".join(sorted(k.name for k in need)[:3])
        raise FatalError(f"the registry holds no copy of {len(need)} object(s) this tree needs ({names})")
    return out
