"""What a push will send: every path of the working tree turned into a gypsum upload entry.

The rules (docs/user/push.md):

- a link into the cache whose content the registry holds at some ``p/a/v/path`` -> a ``link``
  entry to it (moved, renamed and never-downloaded links included);
- a regular file -> its md5 (through the stat cache) -> a ``link`` when the registry already holds
  those bytes, else ``dedup`` when the asset has a latest version to compare with, else ``simple``;
- a symlink that leaves the cache -> its target's bytes (a dangling one is an error), except an
  absolute link into a gypsum_client cache (``<cache>/bucket/p/a/v/path``), which is a ``link``.
  A target outside the working tree and the cache is refused unless ``follow_external`` (it may
  be anyone's file: a link committed by someone else would publish a secret); the plan lists them;
- every path of the base version that the new one lacks is deleted (and listed), whatever the
  reason it is gone.

Nothing here writes to the registry, the cache or the tree: ``--dry-run`` prints a plan and stops.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from selenite import names, registry, safepath
from selenite.cache import Cache
from selenite.errors import FatalError, NotFound
from selenite.gitrepo import tags
from selenite.gitrepo.listings import Listings
from selenite.keys import Key, extension_of, md5_of_file
from selenite.locations import Location, Locations
from selenite.statcache import StatCache
from selenite.tree.entry import Entry, PathStatus
from selenite.tree.layout import layout_of
from selenite.tree.links import parse_link_text
from selenite.tree.origin import Origin
from selenite.tree.pointers import read_pointer_file

LINK = "link"
DEDUP = "dedup"
SIMPLE = "simple"

_GYPSUM_CACHE_RE = re.compile(r"^(?P<prefix>/.*)/bucket/(?P<p>[^/]+)/(?P<a>[^/]+)/(?P<v>[^/]+)/(?P<path>.+)$")
_VERSION_RE = re.compile(r"^v(\d+)$")


@dataclass
class Item:
    """One file of the new version."""

    path: str
    key: Key
    kind: str  # LINK, DEDUP or SIMPLE
    link: Location | None = None
    source: Path | None = None  # where the bytes are on disk (uploads, and content to ingest)
    relink: bool = False  # after the push, replace what is at ``path`` by a link into the cache

    def entry(self) -> dict[str, object]:
        if self.kind == LINK:
            assert self.link is not None
            return {"type": LINK, "path": self.path, "link": self.link.as_link()}
        return {"type": self.kind, "path": self.path, "md5sum": self.key.md5, "size": self.key.size}


@dataclass
class Plan:
    items: list[Item] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)
    external: list[tuple[str, Path]] = field(default_factory=list)  # (path, the file outside it publishes)
    unchanged: bool = False  # the new version would list exactly the last version's files

    def of_kind(self, kind: str) -> list[Item]:
        return [i for i in self.items if i.kind == kind]

    @property
    def upload_bytes(self) -> int:
        """Bytes that may move (dedup entries only move if the registry finds no match)."""
        return sum(i.key.size for i in self.items if i.kind != LINK)

    @property
    def total_bytes(self) -> int:
        return sum(i.key.size for i in self.items)

    def listing(self) -> dict[str, Key]:
        return {i.path: i.key for i in self.items}

    def as_json(self, project: str, asset: str, version: str | None) -> dict[str, object]:
        """What ``push --dry-run --json`` prints (schema in docs/user/json.md); ``version`` None:
        nothing to push."""
        return {
            "project": project, "asset": asset, "version": version, "unchanged": self.unchanged,
            "files": [{"path": i.path, "kind": i.kind, "size": i.key.size, "md5sum": i.key.md5,
                       "link": i.link.as_link() if i.link else None} for i in self.items],
            "deleted": list(self.deleted),
            "external": [{"path": path, "target": str(target)} for path, target in self.external],
            "upload_bytes": self.upload_bytes, "total_bytes": self.total_bytes,
        }


def gypsum_location(target: str) -> Location | None:
    """``<cache>/bucket/p/a/v/path`` (an absolute link made by ``gypsum_client.clone_version``)."""
    m = _GYPSUM_CACHE_RE.match(os.path.normpath(target)) if os.path.isabs(target) else None
    if m is None or not os.path.isdir(os.path.join(m["prefix"], "bucket")):
        return None
    if any(part.startswith("..") for part in m["path"].split("/")):
        return None
    return Location(m["p"], m["a"], m["v"], m["path"])


def next_version(client: registry.RegistryClient, project: str, asset: str) -> str:
    """``v<N+1>`` after the highest ``v<N>`` of the asset; a clear error when versions are not so named."""
    existing = client.list_versions(project, asset)
    named = sorted(((int(m.group(1)), v) for v in existing if (m := _VERSION_RE.match(v))), reverse=True)
    latest = client.latest(project, asset)
    if latest is not None and not _VERSION_RE.match(latest):
        raise FatalError(
            f"the latest version of {project}/{asset} is {latest!r}, not v<N>: name the new one with --version")
    if not named and existing:
        raise FatalError(f"the versions of {project}/{asset} are not named v<N>: name the new one with --version")
    for number, name in named:
        # Newest first. A v<N> that was never finished (left by a push killed before it could
        # remember its session; removed when its lock expires) does not use up the name.
        if _finished(client, project, asset, name):
            return f"v{number + 1}"
    return f"v{named[-1][0] if named else 1}"


def _finished(client: registry.RegistryClient, project: str, asset: str, version: str) -> bool:
    try:
        return bool(client.summary(project, asset, version).get("upload_finish"))
    except NotFound:
        return False


def build(
    root: Path,
    cache: Cache,
    client: registry.RegistryClient,
    origin: Origin,
    hashes: StatCache,
    *,
    can_dedup: bool,
    jobs: int = 4,
    follow_external: bool = False,
    views: Listings | None = None,
) -> Plan:
    """Classify the working tree into a ``Plan`` (reads only: files, the cache, manifests;
    ``views``: Git's listings of the tree, when the caller started them already)."""
    layout = layout_of(root)
    layout.require_in_sync()  # a hardlink/copy tree whose files lag behind its record
    last = layout.last_listing(cache)
    entries = layout.scan(cache, last=last, check_objects=False, views=views)
    locations = Locations(client, cache, origin)
    locations.search_unplaced(e.key for e in entries if e.key is not None and e.status != PathStatus.DELETED)
    plan = Plan()
    regular: list[str] = []
    outside: dict[str, Path] = {}
    for e in entries:
        if e.status == PathStatus.DELETED:
            continue  # counted below, with every other path of the base the new version lacks
        _refuse_unpublishable(e)
        if e.key is not None:  # a link into the cache
            plan.items.append(_cached(root, cache, locations, e, e.key))
        elif e.target is not None and (parsed := parse_link_text(e.target)) is not None:
            # A link moved to another folder depth: its relative text no longer reaches the anchor,
            # but it still names a key. Push it as that key and fix the link text afterwards.
            plan.items.append(_moved(cache, locations, e.path, parsed.key))
        elif e.target is not None and (gloc := gypsum_location(e.target)) is not None:
            plan.items.append(_into_gypsum_cache(locations, e.path, e.target, gloc))
        elif e.target is not None:  # a symlink that leaves the cache: its target's bytes are published
            outside[e.path] = _link_target(root, cache, e.path, e.target, follow_external)
            if not _within(outside[e.path], root, cache):
                plan.external.append((e.path, outside[e.path]))
        else:
            regular.append(e.path)
    plan.items += _hashed(root, locations, hashes, regular, outside, can_dedup, jobs)
    plan.items.sort(key=lambda i: i.path)
    new_listing = {i.path: i.key.content() for i in plan.items}
    plan.deleted = sorted(p for p in last if p not in new_listing)
    plan.unchanged = not plan.deleted and new_listing == {p: k.content() for p, k in last.items()}
    return plan


def _refuse_unpublishable(e: Entry) -> None:
    if (why := safepath.problem(e.path)) is not None:  # what no clone could write: refused before publishing
        raise FatalError(f"{safepath.shown(e.path)} {why}: rename it before pushing")
    if e.status == PathStatus.DESTROYED:
        raise FatalError(
            f"{e.path} is a regular file holding only a link's text (a copied symlink): "
            f"restore the link with `git checkout -- {e.path}`, or put the real content there"
        )


def _neither_here_nor_there(path: str, key: Key) -> FatalError:
    return FatalError(f"{path} links to content that is neither cached here nor held by the registry ({key.name})")


def _cached(root: Path, cache: Cache, locations: Locations, e: Entry, key: Key) -> Item:
    """A link into the cache (or a hardlink/copy tree's file recorded under ``key``)."""
    loc = locations.find(key)
    if loc is not None:
        return Item(e.path, key, LINK, link=loc)
    if cache.has(key):
        return Item(e.path, key, SIMPLE, source=cache.object_path(key))
    if e.target is None and e.status == PathStatus.UNCHANGED and (root / e.path).is_file() \
            and read_pointer_file(root / e.path) is None:
        # A copy-mode file that matched its key through the stat cache: its bytes are here.
        return Item(e.path, key, SIMPLE, source=root / e.path, relink=True)
    raise _neither_here_nor_there(e.path, key)


def _moved(cache: Cache, locations: Locations, path: str, key: Key) -> Item:
    loc = locations.find(key)
    if loc is not None:
        return Item(path, key, LINK, link=loc, relink=True)
    if not cache.has(key):
        raise _neither_here_nor_there(path, key)
    return Item(path, key, SIMPLE, source=cache.object_path(key), relink=True)


def _into_gypsum_cache(locations: Locations, path: str, target: str, gloc: Location) -> Item:
    """An absolute link made by ``gypsum_client.clone_version``: a link to the file it names."""
    key = locations.holds(gloc)
    if key is None:
        raise FatalError(f"{path} links into a gypsum cache at {gloc.project}/{gloc.asset}/"
                         f"{gloc.version}/{gloc.path}, which the registry does not hold")
    # Its bytes, when the gypsum cache has them, are ingested so the new link is not dangling.
    have = Path(target) if os.path.isfile(target) else None
    return Item(path, key.with_ext(extension_of(path)), LINK, link=gloc, source=have, relink=True)


def _link_target(root: Path, cache: Cache, path: str, target: str, follow_external: bool) -> Path:
    """The file a symlink leaving the cache points to (resolved), refused when it is not one, or
    when it is outside the tree and the cache without ``follow_external``."""
    full = root / path
    if not full.exists():
        raise FatalError(f"{path} is a dangling symlink (to {target}): fix or delete it before pushing")
    if not full.is_file():
        raise FatalError(f"{path} is a symlink to something that is not a file ({target})")
    resolved = full.resolve()
    if not follow_external and not _within(resolved, root, cache):
        raise FatalError(
            f"{safepath.shown(path)} is a symlink to {safepath.shown(str(resolved))}, outside the working "
            "tree and the cache: push would publish that file (pass --follow-external to publish it)")
    return resolved


def _hashed(
    root: Path, locations: Locations, hashes: StatCache, regular: list[str], outside: Mapping[str, Path],
    can_dedup: bool, jobs: int,
) -> list[Item]:
    """Items for regular files (md5 from the stat cache, else hashed in parallel) and for the
    targets of links that leave the tree: a link where the registry holds the bytes, else an upload."""
    digests = hashes.hash_many(root, regular, jobs=jobs) if regular else {}
    for path, target in outside.items():
        digests[path] = md5_of_file(target)
    locations.search((md5, size) for md5, size in digests.values())  # one pass over the cached versions
    items: list[Item] = []
    for path, (md5, size) in digests.items():
        key = Key(md5, size, extension_of(path))
        source = outside.get(path, root / path)
        loc = locations.find(key)
        if loc is not None:
            items.append(Item(path, key, LINK, link=loc, source=source, relink=True))
        else:
            items.append(Item(path, key, DEDUP if can_dedup else SIMPLE, source=source, relink=True))
    return items


def _within(target: Path, root: Path, cache: Cache) -> bool:
    """``target`` (resolved) is a file of the working tree (not of its ``.git``) or of the cache."""
    top = root.resolve()
    if target.is_relative_to(top):
        return not target.is_relative_to(top / ".git")
    return target.is_relative_to(cache.objects.resolve())


def check_version_name(version: str) -> None:
    """Refuse, before anything is published, a version name the registry or Git cannot hold: the
    registry's own rules for a new version (``names``), then Git's (every version becomes a Git
    tag; ``v 1`` used to publish and silently get none)."""
    why = names.name_problem("version", version) or names.new_name_problem("version", version)
    if why is not None:
        raise FatalError(f"{why} ({safepath.shown(version)}): every version is also a Git tag; "
                         "pick another name with --version")
    why = tags.tag_name_problem(version)
    if why is not None:
        raise FatalError(f"version name {safepath.shown(version)} {why}: every version is also a Git tag; "
                         "pick another name with --version")

