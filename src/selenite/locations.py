"""Where the registry already holds some content, so that a push links to it instead of uploading
it: the origin version's manifest first, then the asset's other versions this machine has cached."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Container, Iterable, Mapping
from dataclasses import dataclass

from selenite import lookup, registry
from selenite.cache import Cache, registry_id
from selenite.errors import FatalError, NotFound
from selenite.keys import Key
from selenite.manifests import parse_manifest
from selenite.tree.origin import Origin

# Up to this many contents looked for at once, a cached manifest is searched as text before it is
# parsed; beyond, one parse each is cheaper than that many text searches.
_TEXT_SEARCH_MAX = 16


@dataclass(frozen=True)
class Location:
    """Where the registry holds some content: a file of a finished version."""

    project: str
    asset: str
    version: str
    path: str

    def as_link(self) -> dict[str, str]:
        return {"project": self.project, "asset": self.asset, "version": self.version, "path": self.path}


class Locations:
    """Content -> a place in the registry that holds it, from the manifests this machine has seen.

    The origin version comes first (so an unchanged file links to the same path of the version it
    was cloned from), then the asset's other cached versions. Manifests are read from the cache;
    only a missing origin manifest costs a request.
    """

    def __init__(self, client: registry.RegistryClient, cache: Cache, origin: Origin) -> None:
        self._client, self._cache, self._origin = client, cache, origin
        self._reg = registry_id(origin.url)
        # content -> (place, its raw manifest entry); an entry is checked only once a link to it is
        # wanted (``_checked``): checking every path of every cached version was most of the time
        # of a push that changed one file of thousands.
        self._by_content: dict[tuple[str, int], list[tuple[Location, object]]] = {}
        self._linkable: dict[str, bool] = {}
        self._loaded = False
        # Contents looked for in the asset's other cached versions. Those are searched only for
        # what the origin cannot answer, and only for that: a push that changed one file of
        # thousands read and indexed every earlier version's manifest for one new file's bytes.
        self._searched: set[tuple[str, int]] = set()

    def _absorb(self, project: str, asset: str, version: str, manifest: Mapping[str, object],
                checked: bool = False, only: Container[tuple[str, int]] | None = None) -> None:
        """Index ``manifest``'s entries by content (``only``: those contents); ``checked``: it
        passed ``parse_manifest`` whole."""
        for path, entry in manifest.items():
            md5 = entry.get("md5sum") if isinstance(entry, dict) else None
            size = entry.get("size") if isinstance(entry, dict) else None
            if isinstance(md5, str) and isinstance(size, int):  # anything else fails _checked anyway
                content = (md5.lower(), size)
                if only is None or content in only:
                    self._by_content.setdefault(content, []).append(
                        (Location(project, asset, version, path), None if checked else entry))

    @staticmethod
    def _checked(loc: Location, entry: object) -> bool:
        """The manifest entry behind ``loc`` passes ``parse_manifest`` (a safe path, a real key);
        None stands for an entry of a manifest checked whole."""
        if entry is None:
            return True
        try:
            parse_manifest({loc.path: entry}, loc.project, loc.asset, loc.version)
        except FatalError:  # UnsafePath included: a place no tree could hold links nothing here
            return False
        return True

    def _load(self) -> None:
        o = self._origin
        # None when the version was removed since: other versions may still hold the bytes
        m = lookup.manifest_if_any(self._client, self._cache, self._reg, o.project, o.asset, o.version)
        if m is not None:
            parse_manifest(m, o.project, o.asset, o.version)  # the tree's own version: checked whole (raises)
            self._absorb(o.project, o.asset, o.version, m, checked=True)
        self._loaded = True

    def search(self, contents: Iterable[tuple[str, int]]) -> None:
        """Index the places the asset's other cached versions give ``contents`` (each content is
        searched once). A manifest that does not hold a wanted md5 as text is not parsed: its
        JSON load was most of the cost (they are the cache's own files, written by json.dumps,
        so a miss there only costs an upload)."""
        if not self._loaded:
            self._load()  # the origin's places come first in every list
        wanted = set(contents) - self._searched
        if not wanted:
            return
        self._searched |= wanted
        o = self._origin
        for v in self._cache.manifest_versions(self._reg, o.project, o.asset):
            raw = self._cache.manifest_bytes(self._reg, o.project, o.asset, v) if v != o.version else None
            if raw is None:
                continue
            if len(wanted) <= _TEXT_SEARCH_MAX:
                low = raw.lower()
                if not any(md5.encode() in low for md5, _ in wanted):
                    continue
            with contextlib.suppress(ValueError):
                if isinstance(m := json.loads(raw), dict):
                    self._absorb(o.project, o.asset, v, m, only=wanted)

    def search_unplaced(self, keys: Iterable[Key]) -> None:
        """``search`` for the contents of ``keys`` that no place indexed so far may take a link
        for: one pass over the cached versions for them all, where ``find`` alone would make a
        pass for each (after a push on probation, the origin refuses every file)."""
        if not self._loaded:
            self._load()
        self.search(c for c in {k.content() for k in keys} if self._first(c) is None)

    def find(self, key: Key) -> Location | None:
        """The first place (origin first) the new version may link to for ``key``'s content."""
        if not self._loaded:
            self._load()
        content = key.content()
        loc = self._first(content)
        if loc is None and content not in self._searched:
            # The origin's places come first in every list, and were all refused just now.
            self.search([content])
            return self.find(key)
        return loc

    def _first(self, content: tuple[str, int]) -> Location | None:
        for loc, entry in self._by_content.get(content, ()):
            if self._checked(loc, entry) and self._may_link_to(loc.version):
                return loc
        return None

    def _may_link_to(self, version: str) -> bool:
        """The registry refuses links into a probational version: after a push on probation the
        tree's own origin is one, so its files link to the versions before it, or are uploaded."""
        ok = self._linkable.get(version)
        if ok is None:
            o = self._origin
            try:
                summary = self._client.summary(o.project, o.asset, version)
                ok = bool(summary.get("upload_finish")) and not summary.get("on_probation")
            except NotFound:
                ok = False  # removed since
            self._linkable[version] = ok
        return ok

    def holds(self, loc: Location) -> Key | None:
        """The key of ``loc``'s file when the registry holds that file in a finished version."""
        m = lookup.manifest_if_any(self._client, self._cache, self._reg, loc.project, loc.asset, loc.version)
        if m is None:
            return None
        spec = parse_manifest(m, loc.project, loc.asset, loc.version).get(loc.path)
        return None if spec is None else spec.key
