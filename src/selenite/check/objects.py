"""The objects behind the links the stamp could not vouch for: intact, corrupted, or missing, and
whether a missing one is content the registry holds.

The cache (sqlite, filelock) is only imported here when the slow pass has
work: a clean check of an unchanged tree never opens the signature database.
"""

from __future__ import annotations

import errno
import os
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING

from selenite import gitfilter, statsig
from selenite.errors import FatalError
from selenite.gitrepo import blobs, config_section, head
from selenite.keys import Key
from selenite.tree.links import ANCHOR
from selenite.tree.origin import origin

if TYPE_CHECKING:
    from selenite.cache import Cache

class ObjectState(StrEnum):
    OK = "ok"
    CORRUPTED = "corrupted"
    MISSING = "missing"


def cache_root(top: Path, default: Path) -> Path:
    """The cache this tree's links resolve into: the one its anchor names, else the configured
    cache; the rule of ``tree.anchor.tree_cache``, whose common case (the anchor is a symlink) is read
    here without importing the cache."""
    configured = default.expanduser().absolute()
    try:
        target = Path(os.readlink(top / ANCHOR))
    except OSError as e:
        if e.errno != errno.EINVAL:
            return configured  # no anchor yet (a plain `git clone` before `selenite get`)
        # A regular file naming the cache (where symlinks are refused): the tree's own reader.
        from selenite.tree.anchor import tree_cache  # noqa: PLC0415 -- sqlite: only in such trees

        return tree_cache(top, configured).root
    return target.parent if target.is_absolute() and target.name == "objects" else configured


def settle(root: Path, slow: dict[Key, tuple[list[str], os.stat_result | None]]) -> dict[Key, ObjectState]:
    """The state of each key the stamp could not vouch for: the cache's stat signature first, a
    re-hash only when it differs (``Cache.verify`` then records the new signature)."""
    # sqlite and filelock: only when the stamp could not vouch for every link (the hook's start-up).
    from selenite.cache import Cache  # noqa: PLC0415

    cache = Cache(root)
    sigs = cache.signatures() if len(slow) > 32 else None  # one query for many, else one per key
    states: dict[Key, ObjectState] = {}
    for key, (_rels, st) in slow.items():
        if st is None:
            states[key] = ObjectState.MISSING
        else:
            recorded = sigs.get(key.name) if sigs is not None else cache.signature(key)
            if (statsig.unchanged(st, recorded) and st.st_size == key.size) or cache.verify(key):
                states[key] = ObjectState.OK
            else:
                states[key] = ObjectState.CORRUPTED
    return states


class KnownContent:
    """Whether missing content is known to the registry, from what this machine already keeps."""

    def __init__(self, top: Path, root: Path) -> None:
        self._top, self._root = top, root
        self._held: set[tuple[str, int]] | None = None
        self._head: set[str] | None = None

    def knows(self, key: Key) -> bool:
        """Whether the content of ``key`` is held by the registry (a cached manifest of this tree's
        dataset lists it) or already in HEAD (a commit that keeps a link adds nothing unknown)."""
        if self._held is None:
            from selenite.cache import Cache  # noqa: PLC0415 -- sqlite: only for a missing object

            self._held = held_content(Cache(self._root), _origin(self._top))
        if key.content() in self._held:
            return True
        if self._head is None:
            self._head = head_keys(self._top)
        return key.name in self._head


def _origin(top: Path) -> dict[str, str]:
    """The tree's registry, project and asset: ``tree.origin`` (the version HEAD records, so also a
    plain `git clone` before `selenite get`), else whatever git config names (no version yet)."""
    found = origin(top)
    if found is None:
        return config_section(top, "selenite")
    return {"url": found.url, "project": found.project, "asset": found.asset}


def head_keys(top: Path) -> set[str]:
    """Key names of the links and pointers HEAD already holds. A commit that keeps (or moves) such
    a link adds nothing unknown, even when no cached manifest lists its key (a plain `git clone` on
    a machine that never saw the dataset): only links the commit brings in can be "unknown"."""
    if head(top) is None:
        return set()
    names = {text.rsplit("/", 1)[-1] for text in blobs.link_texts(top, "HEAD").values()}
    return names | {k.name for k in gitfilter.pointer_keys(top, index=False)}


def held_content(cache: Cache, origin: dict[str, str]) -> set[tuple[str, int]]:
    """(md5, size) of every file in the cached manifests and trees of this tree's registry/project/asset.

    A version is immutable once finished, so what a cached manifest lists the registry holds; no
    network call is needed in the hook.
    """
    from selenite.cache import registry_id  # noqa: PLC0415 -- sqlite: see settle

    held: set[tuple[str, int]] = set()
    url, project, asset = origin.get("url"), origin.get("project"), origin.get("asset")
    if not (url and project and asset):
        return held
    try:
        reg = registry_id(url)
        for version in cache.manifest_versions(reg, project, asset):
            for entry in (cache.load_manifest(reg, project, asset, version) or {}).values():
                md5, size = (entry.get("md5sum"), entry.get("size")) if isinstance(entry, dict) else (None, None)
                if isinstance(md5, str) and isinstance(size, int):
                    held.add((md5.lower(), size))
        for version in cache.ref_versions(reg, project, asset):
            h = cache.get_ref(reg, project, asset, version)
            for key in ((cache.get_tree(h) or {}).values() if h else ()):
                held.add(key.content())
    except FatalError:
        return held  # a malformed origin: nothing is known to be held
    return held
