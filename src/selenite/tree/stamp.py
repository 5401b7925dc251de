"""The check stamp: which objects the last clean check found intact (and the fast pass it allows).

Per link text (by its git blob id) the stamp keeps the object it names (its path below
``objects/``), that object's inode and size, and when the check began; the next check of an
unchanged tree then needs neither the signature database nor a hash (docs/user/hooks.md). A write bumps
a file's ctime, which no user call can set back; the kernel stamps it from a coarse clock, so only
objects whose ctime is older than the stamp's horizon (``statsig``) are trusted.
"""

from __future__ import annotations

import array
import contextlib
import marshal
import os
import re
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import NamedTuple

from selenite import statsig
from selenite.gitrepo import blob_ids, id_algo
from selenite.keys import Key, object_relpath
from selenite.util import atomic_write

STAMP_FILE = "selenite/check-stamp"  # below the git dir
_STAMP_VERSION = 3


class Stamp:
    """What the last clean check found intact: per link text (by its git blob id), the object it
    names (path below ``objects/``), with that object's inode and size, and when the check began.

    Stored as a few flat arrays and newline-joined strings, so that 100,000 entries load in a few
    milliseconds (a dict of tuples would take a good part of the check's budget to unpickle).
    """

    def __init__(self, when: int = 0, blobs: list[str] | None = None, tails: list[str] | None = None,
                 inodes: array.array[int] | None = None, sizes: array.array[int] | None = None) -> None:
        self.when = when
        self.blobs = blobs or []
        self.tails = tails or []
        self.inodes = inodes if inodes is not None else array.array("Q")
        self.sizes = sizes if sizes is not None else array.array("Q")

    @classmethod
    def load(cls, path: Path, cache_root: str) -> Stamp:
        """The stamp at ``path``, or an empty one when it is missing, damaged, or for another cache."""
        try:
            data = marshal.loads(path.read_bytes())
            version, when, root, blobs, tails, inodes, sizes = data
            if version != _STAMP_VERSION or root != cache_root or not isinstance(when, int):
                return cls()
            ino, size = array.array("Q"), array.array("Q")
            ino.frombytes(inodes)
            size.frombytes(sizes)
            b, t = blobs.split("\n"), tails.split("\n")
            if not (len(b) == len(t) == len(ino) == len(size)) or not blobs:
                return cls()
            return cls(when, b, t, ino, size)
        except (OSError, ValueError, EOFError, TypeError, AttributeError):
            return cls()

    def save(self, path: Path, cache_root: str) -> None:
        data = (_STAMP_VERSION, self.when, cache_root, "\n".join(self.blobs), "\n".join(self.tails),
                self.inodes.tobytes(), self.sizes.tobytes())
        with contextlib.suppress(OSError):  # only a speed-up: a read-only .git still gets a correct (slower) check
            atomic_write(path, marshal.dumps(data))

    def add(self, blob: str, tail: str, st: os.stat_result) -> None:
        self.blobs.append(blob)
        self.tails.append(tail)
        self.inodes.append(st.st_ino)
        self.sizes.append(st.st_size)


# The blob ids of the link entries of `git ls-files -s -z` output, in order (one regexp scan in C).
# Unanchored, so a path that itself looks like "120000 <id> " would add a bogus id: the full parse
# below (``index_links``) then disagrees, and the check trusts no stamp entry.
LINK_BLOB_RE = re.compile(r"120000 ([0-9a-f]{40}|[0-9a-f]{64}) [0-3]\t")


def index_links(listing: str) -> list[tuple[str, str]]:
    """(blob id of the link's text, path) of every link entry of `git ls-files -s -z` output.

    Entries are "<mode> <blob id> <stage>\t<path>"; the id's width (sha1 or sha256) is the same for
    all, so fixed slices do the parsing (this runs for every path of big trees).
    """
    records = listing.split("\0")
    first = records[0]
    if not first:
        return []
    width = first.index(" ", 7) - 7
    return [(r[7:7 + width], r[10 + width:]) for r in records if r.startswith("120000 ")]


_PARALLEL_MIN = 20_000  # below this, forking a second process costs more than it saves


def _spare_core() -> bool:
    """Whether this process may run on a second core (its CPU affinity: taskset, a cgroup's cpuset).

    Not the load average: a minute's average counts the bench's or the build's own short processes,
    so it stays above the core count on a machine that has cores free when the check runs; and on a
    busy machine the split still did not cost (check_tree of 100,000 links at load 7.7 on 2 cores,
    8 alternating runs: median 1457 ms forked, 1459 ms not; best 852 vs 1040 ms)."""
    try:
        return len(os.sched_getaffinity(0)) >= 2
    except (AttributeError, OSError):  # not Linux
        return (os.cpu_count() or 1) >= 2


def _confirm(old: Stamp, positions: Sequence[int], objects_fd: int) -> array.array[int]:
    """For each stamp record (-1: none), that record again if its object is unchanged, else -1."""
    tails, inodes, sizes, when, stat_ = old.tails, old.inodes, old.sizes, old.when, os.stat
    out = array.array("q")
    append = out.append
    for i in positions:
        if i >= 0:
            try:
                st = stat_(tails[i], dir_fd=objects_fd)
                if st.st_ctime_ns < when and st.st_ino == inodes[i] and st.st_size == sizes[i]:
                    append(i)
                    continue
            except OSError:
                pass
        append(-1)
    return out


def confirm_all(old: Stamp, positions: Sequence[int], objects_fd: int) -> list[int]:
    """``confirm`` over every link, the second half in a forked process when there are many and
    a second core is free: the stats are the check's main cost, and Python's lock would serialize
    threads.
    Any failure of the child falls back to doing its half here."""
    n = len(positions)
    if n < _PARALLEL_MIN or not hasattr(os, "fork") or not _spare_core():
        return _confirm(old, positions, objects_fd).tolist()
    half = n // 2
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: confirm the second half, hand the answer over the pipe, leave at once
        code = 1
        try:
            os.close(r)
            data = _confirm(old, positions[half:], objects_fd).tobytes()
            with os.fdopen(w, "wb") as pipe:
                pipe.write(data)
            code = 0
        finally:
            os._exit(code)
    os.close(w)
    first = _confirm(old, positions[:half], objects_fd)
    with os.fdopen(r, "rb") as pipe:
        data = pipe.read()
    _, status = os.waitpid(pid, 0)
    second = array.array("q")
    if status == 0 and len(data) == (n - half) * second.itemsize:
        second.frombytes(data)
    else:
        second = _confirm(old, positions[half:], objects_fd)
    return first.tolist() + second.tolist()


def restamp(path: Path, cache_root: str, started: int, blobs: list[str], source: list[int], old: Stamp,
             fresh: dict[str, tuple[str, os.stat_result]]) -> None:
    """Write the stamp for the index's links in index order (so the next check of the same links
    needs no lookup table): each from the old stamp when the fast pass confirmed it, else from what
    the slow pass verified. Links that are not intact (or not in the index) are left out."""
    new = Stamp(started)
    for blob, i in zip(blobs, source, strict=True):
        if i >= 0:
            new.blobs.append(blob)
            new.tails.append(old.tails[i])
            new.inodes.append(old.inodes[i])
            new.sizes.append(old.sizes[i])
        elif blob in fresh:
            tail, st = fresh[blob]
            new.add(blob, tail, st)
    new.save(path, cache_root)


class FastPass(NamedTuple):
    blobs: list[str]  # blob ids of the index's link entries, in index order
    source: list[int]  # for each, its record in the old stamp, or -1
    slow_paths: list[str]  # the index links the stamp could not vouch for



def confirm_records(old: Stamp, objects_dir: Path) -> list[int]:
    """For each record of the stamp, its own index while its object is unchanged since, else -1: one
    stat of the object by its path in the cache each. It needs no index, so the check runs it while
    git is still listing the index."""
    objects_fd = -1
    if old.blobs:
        with contextlib.suppress(OSError):  # no objects folder: nothing to confirm
            objects_fd = os.open(objects_dir, os.O_RDONLY | os.O_DIRECTORY)
    if objects_fd < 0:
        return [-1] * len(old.blobs)
    try:
        return confirm_all(old, range(len(old.blobs)), objects_fd)
    finally:
        os.close(objects_fd)


def fast_pass(listing: str, old: Stamp, confirmed: Sequence[int]) -> FastPass:
    """The links of the index (``ls-files -s -z`` output) that the stamp vouches for, given which of
    its records are confirmed (``confirm_records``). No readlink, no database."""
    # Blob ids of the index's link entries, in index order; paths are parsed only if needed.
    blobs: list[str] = LINK_BLOB_RE.findall(listing)
    if blobs == old.blobs:  # the usual case: the same links as last time, in the same order
        source = list(confirmed)
    else:
        position = dict(zip(old.blobs, range(len(old.blobs)), strict=True)).get
        source = [-1 if (i := position(b)) is None else confirmed[i] for b in blobs]
    misses = [j for j, i in enumerate(source) if i < 0]
    if not misses:
        return FastPass(blobs, source, [])
    entries = index_links(listing)
    if [b for b, _ in entries] != blobs:  # a path that looks like an index record: trust nothing
        return FastPass([b for b, _ in entries], [-1] * len(entries), [p for _, p in entries])
    return FastPass(blobs, source, [entries[j][1] for j in misses])


class StampPass:
    """The check's fast pass for a scan (`status`): which links of the index the stamp vouches for
    (``tails``: per link, in index order, its object below ``objects/``, else None), and
    (``remember``) the objects the scan then found intact, stamped as the check would, so that
    the next scan of an unchanged tree needs no signature database either."""

    def __init__(self, git_dir: Path, cache_root: Path, listing: Callable[[], str]) -> None:
        self.path, self.root, self.objects_dir = git_dir / STAMP_FILE, os.fspath(cache_root), cache_root / "objects"
        self.started = statsig.horizon(statsig.now())  # before any object is looked at
        self.old = Stamp.load(self.path, self.root)
        # The stamp's objects first: the stats need no index, so they run while git lists it.
        self.fast = fast_pass(listing(), self.old, confirm_records(self.old, self.objects_dir))
        tails = self.old.tails
        self.tails: list[str | None] = [tails[i] if i >= 0 else None for i in self.fast.source]

    def remember(self, intact: Mapping[str, Key]) -> None:
        """Stamp ``intact`` ({link text: key}: links of the index, unchanged for Git, whose objects
        the scan found intact although the stamp did not vouch for them) with the links it did."""
        if not intact or not self.fast.blobs:
            return
        fresh: dict[str, tuple[str, os.stat_result]] = {}
        texts = list(intact)
        for text, blob in zip(texts, blob_ids((t.encode() for t in texts), id_algo(self.fast.blobs[0])), strict=True):
            tail = object_relpath(intact[text])
            with contextlib.suppress(OSError):  # gone since: left out, judged again next time
                fresh[blob] = (tail, os.stat(os.path.join(self.objects_dir, tail)))
        restamp(self.path, self.root, self.started, self.fast.blobs, self.fast.source, self.old, fresh)
