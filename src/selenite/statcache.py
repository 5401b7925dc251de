"""Remember the md5 of a working tree's regular files, so unchanged files are not hashed twice.

An entry is trusted only while the file's stat signature is the one it had when it was hashed, and
is recorded only under the rules of ``statsig`` (the file did not change while it was read, and it
is not racily clean). The cache lives inside the repository's `.git/selenite/`, one SQLite file per
working tree.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterable
from pathlib import Path

from selenite import statsig
from selenite.keys import md5_of_file
from selenite.statsig import StatSig

# A file rewritten while it is read is read again, this many times at most (then hashed, not recorded).
_READS = 3

# SQLite's unix VFS cannot open a file whose absolute path (plus its "-journal" suffix) passes 512
# bytes, and it resolves relative and /proc/self/fd paths to that same long name. A tree that deep
# still works: its stat cache lives in memory for the command and files are re-hashed next time.
_SQLITE_MAX_PATH = 512 - len("-journal")


def _connect(db_path: Path) -> sqlite3.Connection:
    if len(os.fsencode(db_path.absolute())) >= _SQLITE_MAX_PATH:
        return sqlite3.connect(":memory:", check_same_thread=False)
    db_path.parent.mkdir(parents=True, exist_ok=True)
    return sqlite3.connect(db_path, timeout=30, check_same_thread=False)


class StatCache:
    """md5 by path, valid while the file's stat signature is unchanged."""

    def __init__(self, db_path: Path) -> None:
        self._db = _connect(db_path)
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS hashes (path TEXT PRIMARY KEY, size INTEGER, mtime_ns INTEGER,"
            " ctime_ns INTEGER, ino INTEGER, md5 TEXT)"
        )
        self._known: dict[str, tuple[StatSig, str]] = {
            row[0]: (StatSig(*row[1:5]), row[5])
            for row in self._db.execute("SELECT path, size, mtime_ns, ctime_ns, ino, md5 FROM hashes")
        }

    def lookup(self, rel: str, st: os.stat_result) -> str | None:
        hit = self._known.get(rel)
        if hit is not None and statsig.unchanged(st, hit[0]):
            return hit[1]
        return None

    def hash_many(self, root: Path, rels: Iterable[str], jobs: int = 4) -> dict[str, tuple[str, int]]:
        """(md5, size) of each path, hashing in parallel only those whose signature changed."""
        out: dict[str, tuple[str, int]] = {}
        todo: list[tuple[str, os.stat_result]] = []
        for rel in rels:
            st = os.stat(root / rel)
            md5 = self.lookup(rel, st)
            if md5 is not None:
                out[rel] = (md5, st.st_size)
            else:
                todo.append((rel, st))

        def work(item: tuple[str, os.stat_result]) -> tuple[str, str, int, bool, os.stat_result]:
            rel, before = item
            for _ in range(_READS):
                md5, size = md5_of_file(root / rel)
                taken = statsig.now()
                after = os.stat(root / rel)
                if statsig.unchanged(after, StatSig.of(before)) and after.st_size == size:
                    return rel, md5, size, not statsig.is_racy(after, taken), after
                before = after  # rewritten while read: read it again
            return rel, md5, size, False, after

        # hashlib releases the GIL on large buffers, so threads hash on every core. Imported here:
        # concurrent.futures brings logging and queue (~10 ms), which status and the filter never use.
        from concurrent.futures import ThreadPoolExecutor  # noqa: PLC0415

        with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
            results = list(pool.map(work, todo))
        rows = []
        for rel, md5, size, keep, st_after in results:
            out[rel] = (md5, size)
            if keep:  # stable while read, and not racily clean: a later write changes the signature
                sig = StatSig.of(st_after)
                rows.append((rel, *sig, md5))
                self._known[rel] = (sig, md5)
        if rows:
            with self._db:
                self._db.executemany("INSERT OR REPLACE INTO hashes VALUES (?, ?, ?, ?, ?, ?)", rows)
        return out

    def remember(self, entries: Iterable[tuple[str, os.stat_result, str]]) -> None:
        """Record md5s known without hashing (a file selenite has just written from a checked object,
        or has just pushed). A racily clean one is left out: the next scan hashes it."""
        taken = statsig.now()
        rows = [(rel, StatSig.of(st), md5) for rel, st, md5 in entries if not statsig.is_racy(st, taken)]
        if not rows:
            return
        with self._db:
            self._db.executemany("INSERT OR REPLACE INTO hashes VALUES (?, ?, ?, ?, ?, ?)",
                                 [(rel, *sig, md5) for rel, sig, md5 in rows])
        for rel, sig, md5 in rows:
            self._known[rel] = (sig, md5)

    def forget(self, rels: Iterable[str]) -> None:
        rels = list(rels)
        with self._db:
            self._db.executemany("DELETE FROM hashes WHERE path = ?", [(r,) for r in rels])
        for r in rels:
            self._known.pop(r, None)

    def close(self) -> None:
        self._db.close()
