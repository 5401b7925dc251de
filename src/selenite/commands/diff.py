"""`selenite diff [A] [B] [--stat] [--json]`: what changed between two versions, or a version and the
working tree, from manifests alone: no file is downloaded.

A and B are versions of the tree's asset (``v2``) or ``PROJECT/ASSET@VERSION``. With one, that
version against the working tree; with none, the tree's base version against the working tree (no
request at all). The working tree's side is its scan: links name their keys, and regular files are
hashed only when the stat cache does not already know them. Exit 0 when equal, 1 when they differ
(like ``git diff --exit-code``), 2 on an error. The JSON schema is in docs/user/history.md.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from selenite import changes, gitrepo, names, output, registry, versions
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

ERROR = 2  # 1 means "they differ"


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


def diff(settings: Settings, refs: list[str], *, stat: bool = False, as_json: bool = False) -> int:
    """Exit code: 0 equal, 1 different, 2 on an error (said in one line on stderr)."""
    try:
        got = _compare(settings, refs)
    except FatalError as e:
        output.error(f"selenite: error: {e}")
        return ERROR
    old, new, found = got
    if as_json:
        output.write(json.dumps(_document(old, new, found), indent=2))
    elif stat:
        _print_stat(old, new, found)
    else:
        _print_changes(found)
        output.info(f"{old} -> {new}: {_summary(found)}")
    return 0 if found.equal else 1


def _compare(settings: Settings, refs: list[str]) -> tuple[Side, Side, Changes]:
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
    return versions.contents(client, cache, side.project, side.asset, side.version)


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


def _document(old: Side, new: Side, found: Changes) -> dict[str, Any]:
    return {
        "old": asdict(old),
        "new": asdict(new),
        "equal": found.equal,
        "added": [asdict(a) for a in found.added],
        "deleted": [asdict(d) for d in found.deleted],
        "modified": [asdict(m) for m in found.modified],
        "renamed": [asdict(r) for r in found.renamed],
        "totals": asdict(found.totals),
    }


def _print_changes(found: Changes) -> None:
    """One line per change, in path order (a rename at its new path): a letter as `git diff
    --name-status` prints it, the path, the sizes."""
    size = output.human_bytes
    lines: list[tuple[str, str]] = [(a.path, f"A  {_p(a.path)}  ({size(a.size)})") for a in found.added]
    lines += [(d.path, f"D  {_p(d.path)}  ({size(d.size)})") for d in found.deleted]
    lines += [(m.path, f"M  {_p(m.path)}  ({size(m.old_size)} -> {size(m.new_size)})") for m in found.modified]
    lines += [(r.new_path, f"R  {_p(r.old_path)} -> {_p(r.new_path)}  ({size(r.size)})") for r in found.renamed]
    for _, line in sorted(lines):
        output.write(line)


def _p(path: str) -> str:
    return output.printable(path)


def _summary(found: Changes) -> str:
    t = found.totals
    parts = [f"{n} {what}" for n, what in ((t.added, "added"), (t.deleted, "deleted"), (t.modified, "modified"),
                                           (t.renamed, "renamed")) if n]
    return ", ".join(parts) if parts else "no changes"


def _print_stat(old: Side, new: Side, found: Changes) -> None:
    t, size = found.totals, output.human_bytes
    output.write(_p(f"{old} -> {new}"))
    output.write(f"  {t.added} added ({size(t.added_bytes)}), {t.deleted} deleted ({size(t.deleted_bytes)}), "
                 f"{t.modified} modified ({size(t.modified_old_bytes)} -> {size(t.modified_new_bytes)}), "
                 f"{t.renamed} renamed ({size(t.renamed_bytes)}), {t.unchanged} unchanged")
    output.write(f"  {t.old_files} files ({size(t.old_bytes)}) -> {t.new_files} files ({size(t.new_bytes)})")
