"""What changed between two versions, or a version and the working tree (``selenite.diff``, `selenite
diff [A] [B]`), from manifests alone: no file is downloaded.

A and B are versions of the tree's asset (``v2``) or ``PROJECT/ASSET@VERSION``. With one, that
version against the working tree; with none, the tree's base version against the working tree (no
request at all). The working tree's side is its scan: links name their keys, and regular files are
hashed only when the stat cache does not already know them.
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from selenite import changes, gitrepo, lookup, names, output, registry
from selenite.cache import Cache
from selenite.changes import Changes, Listing
from selenite.config import Settings
from selenite.errors import FatalError, NotAWorkingTree
from selenite.keys import Key, md5_of_file
from selenite.statcache import StatCache
from selenite.tree.entry import PathStatus
from selenite.tree.layout import layout_of
from selenite.tree.links import parse_link_text
from selenite.workspace import open_tree, registry_endpoint


@dataclass(frozen=True)
class Side:
    """One side of a diff: a version, or the working tree (``version`` None)."""

    project: str
    asset: str
    version: str | None

    def __str__(self) -> str:
        where = f"{self.project}/{self.asset}"
        return f"{where}@{self.version}" if self.version is not None else f"the working tree of {where}"


def parse_ref(text: str, default: tuple[str, str] | None) -> Side:
    """``VERSION`` (of the tree's asset, ``default``) or ``PROJECT/ASSET@VERSION``, names checked."""
    spec, at, version = text.rpartition("@")
    if at:
        parts = spec.split("/")
        if len(parts) != 2:
            raise FatalError(f"{output.printable(text)!r}: expected VERSION or PROJECT/ASSET@VERSION")
        project, asset = parts
    elif default is None:
        raise FatalError(f"{output.printable(text)!r}: outside a working tree, name versions as PROJECT/ASSET@VERSION")
    else:
        (project, asset), version = default, text
    for kind, name in (("project", project), ("asset", asset), ("version", version)):
        if (why := names.name_problem(kind, name)) is not None:
            raise FatalError(f"{output.printable(text)!r}: {why}")
    return Side(project, asset, version)


def compare(settings: Settings, refs: list[str]) -> tuple[Side, Side, Changes]:
    """The two sides ``refs`` name (none, one or two versions; the working tree around
    ``settings.cwd`` stands for a missing one) and what changed from the first to the second."""
    if len(refs) > 2:
        raise FatalError("diff takes at most two versions")
    tree = None
    if len(refs) < 2:  # the working tree is one side
        tree = open_tree(settings)
    elif not all("@" in r for r in refs):  # a bare VERSION is one of the tree's asset
        with contextlib.suppress(NotAWorkingTree):  # outside one: parse_ref says how to name versions
            tree = open_tree(settings)
    default = (tree[1].project, tree[1].asset) if tree is not None else None
    sides = [parse_ref(r, default) for r in refs]
    if tree is not None and len(sides) < 2:
        root, o, cache = tree
        layout = layout_of(root)
        base = layout.last_listing(cache)
        if not sides:  # the tree's base: its listing is local
            sides.append(Side(o.project, o.asset, o.version))
            old_listing: Listing = {p: k.content() for p, k in base.items()}
        else:
            with registry.session_for(settings.endpoint(o.url).url) as client:
                old_listing = _remote(client, cache, sides[0])
        new_listing = working_listing(root, cache, base)
        return sides[0], Side(o.project, o.asset, None), changes.compare(old_listing, new_listing)
    cache = tree[2] if tree is not None else Cache(settings.cache_dir)
    # A tree's versions come from its registry; versions named in full outside one, from the
    # registry every registry-level verb uses.
    url = settings.endpoint(tree[1].url).url if tree is not None else registry_endpoint(settings).url
    with registry.session_for(url) as client:
        a, b = (_remote(client, cache, s) for s in sides)
    return sides[0], sides[1], changes.compare(a, b)


def _remote(client: registry.RegistryClient, cache: Cache, side: Side) -> Listing:
    assert side.version is not None  # a version, not the working tree
    return lookup.contents(client, cache, side.project, side.asset, side.version)


def working_listing(root: Path, cache: Cache, base: Mapping[str, Key]) -> Listing:
    """{path: (md5, size)} of what the working tree holds now, as a push would publish it: the key
    each link names (also a link moved to another depth), the md5 of each regular file (through the
    stat cache), the target of a link leaving the cache. Nothing is downloaded."""
    out: dict[str, tuple[str, int]] = {}
    regular: list[str] = []
    for e in layout_of(root).scan(cache, last=base, check_objects=False):
        if e.status == PathStatus.DELETED:
            continue
        if e.key is not None:
            out[e.path] = e.key.content()
        elif e.target is not None and (parsed := parse_link_text(e.target)) is not None:
            out[e.path] = parsed.key.content()
        elif e.target is not None:  # leaves the cache: what it points to is what a push would publish
            with contextlib.suppress(OSError):
                if (root / e.path).is_file():
                    out[e.path] = md5_of_file(root / e.path)
                    continue
            output.info(f"note: {output.printable(e.path)} is a symlink to no file ({output.printable(e.target)}): "
                        "left out")
        else:
            regular.append(e.path)
    if regular:
        with contextlib.closing(StatCache(gitrepo.git_dir(root) / "selenite" / "hashes.sqlite")) as hashes:
            out.update(hashes.hash_many(root, regular))
    return out


