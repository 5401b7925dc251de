"""Remember the md5 of a working tree's regular files, so unchanged files are not hashed twice.

An entry is trusted only while the file's (size, mtime_ns, ctime_ns, inode) are those it had when it
was hashed, the same signature Git's index uses to skip re-reading files. The cache lives inside the
repository's `.git/selenite/`, one SQLite file per working tree.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from selenite.keys import md5_of_file

def _signature(st: os.stat_result) -> tuple[int, int, int, int]:
    return (st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino)


class StatCache:
    """md5 by path, valid while the file's stat signature is unchanged."""

    def __init__(self, db_path: Path) -> None:
        db_path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(db_path, timeout=30, check_same_thread=False)
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS hashes (path TEXT PRIMARY KEY, size INTEGER, mtime_ns INTEGER,"
            " ctime_ns INTEGER, ino INTEGER, md5 TEXT)"
        )
        self._known = {
            row[0]: (tuple(row[1:5]), row[5])
            for row in self._db.execute("SELECT path, size, mtime_ns, ctime_ns, ino, md5 FROM hashes")
        }

    def lookup(self, rel: str, st: os.stat_result) -> str | None:
        hit = self._known.get(rel)
        if hit is not None and hit[0] == _signature(st):
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

        def work(item: tuple[str, os.stat_result]) -> tuple[str, str, int, os.stat_result]:
            rel, _ = item
            md5, size = md5_of_file(root / rel)
            return rel, md5, size, os.stat(root / rel)

        # hashlib releases the GIL on large buffers, so threads hash on every core.
        with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
            results = list(pool.map(work, todo))
        rows = []
        for rel, md5, size, st_after in results:
            out[rel] = (md5, size)
            if st_after.st_size == size:  # the file did not change while we read it
                rows.append((rel, *_signature(st_after), md5))
                self._known[rel] = (_signature(st_after), md5)
        if rows:
            with self._db:
                self._db.executemany("INSERT OR REPLACE INTO hashes VALUES (?, ?, ?, ?, ?, ?)", rows)
        return out

    def remember(self, entries: Iterable[tuple[str, os.stat_result, str]]) -> None:
        """Record md5s known without hashing (a file selenite has just written from a checked object)."""
        rows = [(rel, *_signature(st), md5) for rel, st, md5 in entries]
        if not rows:
            return
        with self._db:
            self._db.executemany("INSERT OR REPLACE INTO hashes VALUES (?, ?, ?, ?, ?, ?)", rows)
        for row in rows:
            self._known[row[0]] = (tuple(row[1:5]), row[5])  # type: ignore[assignment]

    def forget(self, rels: Iterable[str]) -> None:
        rels = list(rels)
        with self._db:
            self._db.executemany("DELETE FROM hashes WHERE path = ?", [(r,) for r in rels])
        for r in rels:
            self._known.pop(r, None)

    def close(self) -> None:
        self._db.close()
