"""Is this file unchanged since it was last seen? The one answer the client uses (push, status, the
pre-commit hook, copy mode, the cache's objects).

A file's **stat signature** is (size, mtime_ns, ctime_ns, inode), as Git's index and DVC's state
keep it: any write moves mtime and ctime, a replacement changes the inode. A recorded md5 (or "this
object is intact") is trusted while the signature is the same, and re-checked by hashing otherwise.

Two rules make that safe:

- **Stable while hashed.** A file is stat'ed before and after it is read; the md5 is recorded only
  when both signatures agree (a rewrite during the read leaves a md5 of neither version).
- **Not racily clean** (Git's "racy git"). Timestamps are coarse: a write in the same tick as the
  stat leaves mtime as it was, so a same-size rewrite could keep the signature. A signature is
  recorded only when its mtime is older than the moment the stat was taken minus
  ``GRANULARITY_NS``; a file changed later than that is simply hashed again next time.
  Files selenite writes itself (cache objects, copies it places) are given an mtime older than
  that horizon (``backdate``), so they are recorded at once: any later write moves mtime to "now",
  which can no longer equal it.

Every signature holds ctime, cache objects' too. ctime is the one time no user call can set back:
a same-size edit that restores mtime with ``os.utime`` still moves it (so do a chmod and any hard
link made or removed). The cost is that selenite's own link operations move it as well: placing a
hard link in a hardlink-mode tree, storing identical content once by hard link, removing a link
(drop, gc, unlock). So wherever selenite does that, it checks the object's full signature just
before (a re-hash if it differs) and signs the object again right after
(``Cache.keeping_signatures``): a fresh hardlink clone needs no hash on its next check. A ctime
move selenite did not make (a user's ``rm`` of a hardlink-tree file, an edit) costs one re-hash on
the next check, then the object is signed anew if it is intact. (Left open: an edit that sets
mtime back within the same coarse ctime tick as selenite's own link; the hook's stamp, which
trusts only objects whose ctime is older than its horizon, does not rely on that.)

Kept import-light (``os``, ``time``): the pre-commit hook imports it on every commit.
"""

from __future__ import annotations

import os
import time
from typing import NamedTuple

# The coarsest timestamp granularity of the filesystems selenite meets (FAT keeps 2 s; Linux
# filesystems stamp from a clock that ticks every few ms and may lag the wall clock by a tick).
GRANULARITY_NS = 2_000_000_000


class StatSig(NamedTuple):
    """What a cheap ``stat`` tells about a file."""

    size: int
    mtime_ns: int
    ctime_ns: int
    inode: int

    @classmethod
    def of(cls, st: os.stat_result) -> StatSig:
        return cls(st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino)


def unchanged(st: os.stat_result, recorded: StatSig | None) -> bool:
    """The file with stat ``st`` is the one ``recorded`` was taken of, unchanged since."""
    return (
        recorded is not None
        and st.st_size == recorded.size
        and st.st_mtime_ns == recorded.mtime_ns
        and st.st_ino == recorded.inode
        and st.st_ctime_ns == recorded.ctime_ns
    )


def now() -> int:
    """The moment a stat is taken, for ``is_racy`` (read it *before* the stat it goes with)."""
    return time.time_ns()


def horizon(taken_at_ns: int) -> int:
    """Changes older than this are safely in the past at ``taken_at_ns``: a later write cannot leave
    a timestamp from before it."""
    return taken_at_ns - GRANULARITY_NS


def is_racy(st: os.stat_result, taken_at_ns: int) -> bool:
    """Racily clean: changed so shortly before ``taken_at_ns`` that a same-size rewrite in the same
    timestamp tick would leave this signature as it is."""
    return st.st_mtime_ns >= horizon(taken_at_ns)


def recordable(before: os.stat_result, after: os.stat_result, taken_at_ns: int) -> bool:
    """A hash made between the stats ``before`` and ``after`` (``after`` taken at ``taken_at_ns``)
    may be remembered under ``after``'s signature: nothing changed while it was read, and nothing
    can change later without changing the signature."""
    return unchanged(after, StatSig.of(before)) and not is_racy(after, taken_at_ns)


def backdate(path: str | os.PathLike[str], st: os.stat_result | None = None) -> None:
    """Give a file selenite has just written an mtime before the racy horizon, so its signature can
    be recorded at once (see above). Its atime is kept. Files already old enough are left alone:
    setting a time bumps ctime, and a cache object may be shared by hard links."""
    st = st if st is not None else os.stat(path)
    taken = now()
    if is_racy(st, taken):
        os.utime(path, ns=(st.st_atime_ns, horizon(taken) - 1_000_000_000))
