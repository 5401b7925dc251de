"""What the cache knows about versions, besides their bytes: manifests, trees and refs.

    <cache>/manifests/<registry-id>/<p>/<a>/<v>.json    manifests of versions seen (immutable)
    <cache>/trees/<h[0:2]>/<h>.json                     {path: key name} of a version, by tree hash
    <cache>/refs/<registry-id>/<p>/<a>/<v>              tree hash of that version

All small files written with ``util.atomic_write``; anything read back is validated, and a damaged
entry is answered as absent (read from the registry again), never trusted.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections.abc import Mapping
from pathlib import Path
from urllib.parse import quote, urlsplit

from selenite import safepath
from selenite.errors import FatalError
from selenite.keys import Key, try_parse_keys
from selenite.util import atomic_write

_HEX64 = re.compile(r"[0-9a-f]{64}\Z")


def registry_id(url: str) -> str:
    """One path component naming a registry: its URL without the scheme, percent-encoded."""
    parts = urlsplit(url.rstrip("/"))
    rest = parts.netloc + parts.path
    return quote(rest, safe="")


def tree_hash(listing: Mapping[str, Key | str]) -> str:
    """sha256 of the canonical listing: entries sorted by the UTF-8 bytes of the path, each encoded
    ``<len(path)>:<path><len(key)>:<key>`` (lengths in bytes), so no two listings encode alike."""
    h = hashlib.sha256()
    for bpath, key in sorted((p.encode(), str(k).encode()) for p, k in listing.items()):
        h.update(b"%d:%s%d:%s" % (len(bpath), bpath, len(key), key))
    return h.hexdigest()


def _name_component(name: str, what: str) -> str:
    """A project/asset/version name used as one path component under the cache: validated."""
    if not isinstance(name, str) or not name or name in (".", "..") or any(c in name for c in "/\\\x00"):
        raise FatalError(f"{what} name {name!r} cannot be used (empty, '.', '..', or holds '/' or '\\')")
    return name


class CacheMeta:
    """Manifests, trees and refs under the cache's ``root`` (a part of ``Cache``)."""

    root: Path

    def _asset_dir(self, base: str, reg: str, project: str, asset: str) -> Path:
        return (self.root / base / _name_component(reg, "registry") / _name_component(project, "project")
                / _name_component(asset, "asset"))

    def _version_path(self, base: str, reg: str, project: str, asset: str, version: str, suffix: str = "") -> Path:
        return self._asset_dir(base, reg, project, asset) / (_name_component(version, "version") + suffix)

    def save_manifest(self, reg: str, project: str, asset: str, version: str, manifest: Mapping[str, object]) -> None:
        """Keep a finished version's manifest (immutable in the registry, so fetched once)."""
        path = self._version_path("manifests", reg, project, asset, version, ".json")
        atomic_write(path, json.dumps(manifest, sort_keys=True).encode())

    def load_manifest(self, reg: str, project: str, asset: str, version: str) -> dict[str, object] | None:
        raw = self.manifest_bytes(reg, project, asset, version)
        try:
            data = json.loads(raw) if raw is not None else None
        except ValueError:
            return None  # a damaged cache entry, refetched, never trusted
        return data if isinstance(data, dict) else None

    def manifest_bytes(self, reg: str, project: str, asset: str, version: str) -> bytes | None:
        """A cached manifest's file as it is (unchecked JSON; None when absent): a search for
        some md5s reads it without parsing it."""
        try:
            return self._version_path("manifests", reg, project, asset, version, ".json").read_bytes()
        except OSError:
            return None

    def save_facts(self, reg: str, project: str, asset: str, version: str, facts: Mapping[str, str]) -> None:
        """Keep what never changes once a version is finished: its uploader and finish time (from
        ``..summary``; probation is left out, it changes), read by ``selenite.history``."""
        path = self._version_path("summaries", reg, project, asset, version, ".json")
        atomic_write(path, json.dumps(dict(facts), sort_keys=True).encode())

    def load_facts(self, reg: str, project: str, asset: str, version: str) -> dict[str, str] | None:
        path = self._version_path("summaries", reg, project, asset, version, ".json")
        try:
            data = json.loads(path.read_bytes())
        except (OSError, ValueError):
            return None  # absent or damaged: asked again
        ok = isinstance(data, dict) and all(isinstance(v, str) for v in data.values())
        return data if ok else None

    def manifest_versions(self, reg: str, project: str, asset: str) -> list[str]:
        """Versions of an asset whose manifests are cached."""
        return sorted(n[:-5] for n in listdir(self._asset_dir("manifests", reg, project, asset)) if n.endswith(".json"))

    def ref_versions(self, reg: str, project: str, asset: str) -> list[str]:
        """Versions of an asset whose refs (tree hashes) are cached; ``get_ref`` reads each."""
        return sorted(listdir(self._asset_dir("refs", reg, project, asset)))

    def put_tree(self, listing: Mapping[str, Key]) -> str:
        """Record a version's listing by its tree hash; return the hash."""
        h = tree_hash(listing)
        path = self.root / "trees" / h[0:2] / f"{h}.json"
        if not path.exists():
            atomic_write(path, json.dumps({p: k.name for p, k in sorted(listing.items())}).encode())
        return h

    def get_tree(self, h: str) -> dict[str, Key] | None:
        """A recorded listing (validated: safe paths, key names, and the hash itself)."""
        if not _HEX64.match(h):
            return None
        try:
            data = json.loads((self.root / "trees" / h[0:2] / f"{h}.json").read_bytes())
        except (OSError, ValueError):
            return None
        if not isinstance(data, dict):
            return None
        # Not a tree selenite would write (a bad path or key name, another hash): None, and the
        # manifest is read again (and refused there). Checked in bulk: status reads this every run.
        keys = try_parse_keys(list(data.values()))
        if keys is None or any(safepath.problem(p) is not None for p in data) or tree_hash(data) != h:
            return None
        return dict(zip(data, keys, strict=True))

    def set_ref(self, reg: str, project: str, asset: str, version: str, h: str) -> None:
        atomic_write(self._version_path("refs", reg, project, asset, version), (h + "\n").encode())

    def get_ref(self, reg: str, project: str, asset: str, version: str) -> str | None:
        try:
            h = self._version_path("refs", reg, project, asset, version).read_text().strip()
        except OSError:
            return None
        return h if _HEX64.match(h) else None


def listdir(path: Path) -> list[str]:
    """Names in a folder; none when it is missing (entries come and go under other processes).
    Used by every part of the cache."""
    try:
        return os.listdir(path)
    except (FileNotFoundError, NotADirectoryError):
        return []
