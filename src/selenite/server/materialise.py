"""Removal without dangling links: before a version, asset or project is deleted, every other
version whose manifest links into it gets the linked bytes of its own.

A manifest entry with a ``link`` has no object of its own: readers fetch ``link.ancestor`` (the
original file, §3.2) or else ``link``. When a removal takes away the place a link resolves to,
the bytes are copied (streamed, md5-checked by the storage) to the dependent's own key and the
entry becomes a plain ``{size, md5sum}`` one, dropped from its folder's ``..links``. When the
removal takes away only the version a link names while its ancestor stays, the link is pointed
at the ancestor instead (no bytes move). The bucket is then valid for every reader, gypsum_client
included, whoever asked for the removal.

Order, for kill -9 at any point: per dependent version, bytes first, then ``..links``, then
``..manifest``, then ``..usage``; the removal itself runs only after all of them. Re-running the
removal redoes whatever a crash left half done (copying again is harmless); a crash just before a
usage update leaves that usage short, never counted twice (``/refresh/usage`` recounts).
"""

from __future__ import annotations

import contextlib
import posixpath
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from selenite.server.errors import DigestMismatch, HttpError
from selenite.server.jsonfiles import read_json, write_json
from selenite.server.keyspace import manifest_key, version_prefix
from selenite.server.storage.base import Storage
from selenite.server.usage import add_usage

Lock = Callable[[str, str, str], contextlib.AbstractContextManager[object]]


@dataclass(frozen=True)
class Scope:
    """What a removal deletes: a project, an asset of it, or one version."""

    project: str
    asset: str | None = None
    version: str | None = None

    def holds(self, target: object) -> bool:
        """Whether a manifest ``link`` (or ``ancestor``) object points into this scope."""
        if not isinstance(target, dict) or target.get("project") != self.project:
            return False
        if self.asset is not None and target.get("asset") != self.asset:
            return False
        return self.version is None or target.get("version") == self.version

    def holds_version(self, p: str, a: str, v: str) -> bool:
        return self.holds({"project": p, "asset": a, "version": v})


@dataclass
class Dependent:
    """A version outside the scope with manifest entries that link into it."""

    project: str
    asset: str
    version: str
    paths: list[str] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return {"project": self.project, "asset": self.asset, "version": self.version, "paths": self.paths}


def _children(storage: Storage, prefix: str) -> Iterator[str]:
    for entry in storage.list_dir(prefix):
        name = entry[len(prefix):]
        if name.endswith("/") and not name.startswith(".."):
            yield name[:-1]


def _versions(storage: Storage) -> Iterator[tuple[str, str, str]]:
    for p in _children(storage, ""):
        for a in _children(storage, f"{p}/"):
            for v in _children(storage, f"{p}/{a}/"):
                yield p, a, v


def _manifest(storage: Storage, p: str, a: str, v: str) -> dict[str, Any] | None:
    try:
        data = read_json(storage, manifest_key(p, a, v), must=False)
    except HttpError:  # an unreadable manifest links nowhere we could fix
        return None
    return data if isinstance(data, dict) else None


def _linked_paths(manifest: dict[str, Any], scope: Scope) -> list[str]:
    out = []
    for path, entry in manifest.items():
        link = entry.get("link") if isinstance(entry, dict) else None
        if isinstance(link, dict) and (scope.holds(link) or scope.holds(link.get("ancestor"))):
            out.append(path)
    return out


def dependents(storage: Storage, scope: Scope) -> list[Dependent]:
    """Every version outside ``scope`` that links into it, with the linking paths (sorted)."""
    found = []
    for p, a, v in _versions(storage):
        if scope.holds_version(p, a, v):
            continue
        manifest = _manifest(storage, p, a, v)
        paths = _linked_paths(manifest, scope) if manifest is not None else []
        if paths:
            found.append(Dependent(p, a, v, sorted(paths)))
    return found


def _source_key(link: dict[str, Any]) -> tuple[dict[str, Any], str]:
    """Where a link's bytes live (its ancestor, else its target) and that object's key."""
    ancestor = link.get("ancestor")
    src: dict[str, Any] = ancestor if isinstance(ancestor, dict) else link
    return src, f"{src['project']}/{src['asset']}/{src['version']}/{src['path']}"


def _copy(storage: Storage, src_key: str, dest_key: str, md5: str) -> int:
    stream = storage.open(src_key)
    if stream is None:
        raise HttpError(500, f"cannot keep '{dest_key}': its linked original '{src_key}' is missing")
    try:  # the md5 the storage knows is the truth; the manifest's was what the uploader declared
        info = storage.put_stream(dest_key, stream.chunks, md5_hex=stream.info.md5 or md5)
    except DigestMismatch:
        raise HttpError(500, f"cannot keep '{dest_key}': '{src_key}' does not match its md5sum") from None
    finally:
        stream.close()
    return info.size


def _fix_version(storage: Storage, dep: Dependent, scope: Scope) -> None:
    manifest = _manifest(storage, dep.project, dep.asset, dep.version)
    if manifest is None:
        return
    base = version_prefix(dep.project, dep.asset, dep.version)
    links_changes: dict[str, dict[str, Any | None]] = {}  # folder -> basename -> new link (None: gone)
    copied = 0
    for path in _linked_paths(manifest, scope):
        entry = manifest[path]
        link = entry["link"]
        src, src_key = _source_key(link)
        folder, name = posixpath.split(path)
        if scope.holds(src):
            copied += _copy(storage, src_key, base + path, str(entry.get("md5sum", "")))
            manifest[path] = {"size": entry.get("size"), "md5sum": entry.get("md5sum")}
            links_changes.setdefault(folder, {})[name] = None
        else:  # only the version it names goes; the original stays: point straight at it
            target = {k: v for k, v in src.items() if k != "ancestor"}
            manifest[path] = {**entry, "link": target}
            links_changes.setdefault(folder, {})[name] = target
    for folder, changes in links_changes.items():
        key = base + (f"{folder}/..links" if folder else "..links")
        stored = read_json(storage, key, must=False)
        links: dict[str, Any] = stored if isinstance(stored, dict) else {}
        for name, new in changes.items():
            if new is None:
                links.pop(name, None)
            else:
                links[name] = new
        if links:
            write_json(storage, key, links)
        else:
            storage.delete(key)
    write_json(storage, manifest_key(dep.project, dep.asset, dep.version), manifest)
    add_usage(storage, dep.project, copied)


def materialise(storage: Storage, scope: Scope, lock: Lock | None = None) -> list[Dependent]:
    """Give every version that links into ``scope`` what it needs to outlive it; returns them.
    The caller holds the scope's project lock and deletes the scope afterwards; ``lock(p, a, v)``
    holds another project's lock while one of its versions is rewritten (so a removal of that
    version cannot run meanwhile; a project locked by someone else refuses this removal, 403)."""
    found = dependents(storage, scope)
    for dep in found:
        other = lock is not None and dep.project != scope.project
        with lock(dep.project, dep.asset, dep.version) if other and lock else contextlib.nullcontext():
            _fix_version(storage, dep, scope)  # it re-reads the manifest: None if the version went meanwhile
    return found
