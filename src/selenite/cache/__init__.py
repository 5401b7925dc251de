"""The shared, content-addressed cache (one per user; every working tree links into it).

Layout (docs/develop/internals.md is the contract)::

    <cache>/objects/<md5[0:2]>/<md5[2:4]>/<KEY>/<KEY>   content, 0444; its <KEY>/ directory 0555
    <cache>/tmp/                                        in-flight writes (same filesystem as objects/)
    <cache>/tmp/partial-<KEY>                           a large download so far, resumed by the next one
    <cache>/manifests/<registry-id>/<p>/<a>/<v>.json    manifests of versions seen (immutable)
    <cache>/trees/<h[0:2]>/<h>.json                     {path: key name} of a version, by tree hash
    <cache>/refs/<registry-id>/<p>/<a>/<v>              tree hash of that version
    <cache>/state.sqlite                                stat signatures of objects; registered trees
    <cache>/locks/                                      filelock files
    <cache>/kept/<when>-<pid>-<tid>-<KEY>               bytes of a damaged object, kept before it was restored

``Cache`` is made of three parts, one module each: ``state`` (the sqlite database: object
signatures, whether an object is intact, the registered working trees), ``objects`` (storing,
removing, listing and reading objects; ``durable`` makes their renames durable; ``partial``: large
downloads kept across interruptions) and ``meta`` (manifests, trees, refs).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from selenite.cache.meta import CacheMeta, registry_id, tree_hash
from selenite.cache.objects import read_object
from selenite.cache.partial import RESUMABLE, Partial, PartialStore
from selenite.cache.state import CORRUPTED, MISSING, OK

if TYPE_CHECKING:
    from filelock import FileLock

__all__ = ["CORRUPTED", "MISSING", "OK", "RESUMABLE", "Cache", "Partial", "read_object", "registry_id", "tree_hash"]


class Cache(PartialStore, CacheMeta):
    """The object store plus the small metadata it keeps (manifests, trees, refs, signatures)."""

    def lock(self, name: str) -> FileLock:
        """An inter-process lock under ``locks/`` (e.g. ``cache.lock("gc")``)."""
        from filelock import FileLock  # noqa: PLC0415 -- ~12 ms to import; most commands never lock

        return FileLock(str(self.root / "locks" / f"{name}.lock"))
