"""`selenite gc [--max-size SIZE] [--dry-run] [--force]`: remove objects no registered working tree needs.

A registered tree needs what its links name and what its HEAD, index and tags name (``pins``).
Oldest first (by the time the object was stored). With ``--max-size`` it stops as soon as the
cache fits; without it, every unreferenced object goes. Registered trees that no longer exist (or
now use another cache) are forgotten first; a tree that was moved is registered again by any
command run inside it, gc included.

An unreferenced object is removed only when the registry still holds its content (a version that
lists it still exists): a tree moved away and not yet found again, or a version removed from the
registry, must not take the last copy with it. The registry is asked; when it cannot be, the
object is kept and gc says so. ``--force`` removes unreferenced objects without asking.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from selenite import gitfilter, gitrepo, output, pins, registry
from selenite.cache import Cache, registry_id
from selenite.config import Settings
from selenite.errors import FatalError, NotFound, RegistryError
from selenite.keys import Key
from selenite.tree.anchor import anchor_target
from selenite.tree.origin import origin

_SIZE_RE = re.compile(r"^\s*([0-9]+(?:\.[0-9]+)?)\s*([kmgtp]?)(i?b)?\s*$", re.IGNORECASE)
_UNITS = {"": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30, "t": 1 << 40, "p": 1 << 50}

HELD, GONE, UNASKED = "held", "gone", "unasked"


def parse_size(text: str) -> int:
    """``0``, ``500M``, ``10G``, ``1.5GiB`` -> bytes (units are powers of 1024)."""
    m = _SIZE_RE.match(text)
    if m is None:
        raise FatalError(f"--max-size {text!r}: expected a size such as 0, 500M or 10G")
    return int(float(m.group(1)) * _UNITS[m.group(2).lower()])


class Holdings:
    """Whether some registry still holds an object's content: the versions this cache saw list it
    (cached manifests and trees), and the registry still has one of those versions."""

    def __init__(self, cache: Cache, urls: set[str], stack: contextlib.ExitStack) -> None:
        self._cache, self._stack = cache, stack
        self._urls = {registry_id(u): u for u in urls}
        self._where: dict[tuple[str, int], list[tuple[str, str, str, str]]] | None = None
        self._versions: dict[tuple[str, str, str, str], str] = {}
        self._clients: dict[str, registry.RegistryClient | None] = {}

    def _index(self) -> dict[tuple[str, int], list[tuple[str, str, str, str]]]:
        where: dict[tuple[str, int], list[tuple[str, str, str, str]]] = {}
        root = self._cache.root
        for reg, project, asset, name in _walk3(root / "manifests"):
            if not name.endswith(".json"):
                continue
            version = name[:-5]
            with contextlib.suppress(FatalError):
                for entry in (self._cache.load_manifest(reg, project, asset, version) or {}).values():
                    if isinstance(entry, dict) and isinstance(md5 := entry.get("md5sum"), str) \
                            and isinstance(size := entry.get("size"), int):
                        where.setdefault((md5.lower(), size), []).append((reg, project, asset, version))
        for reg, project, asset, version in _walk3(root / "refs"):
            with contextlib.suppress(FatalError):
                h = self._cache.get_ref(reg, project, asset, version)
                for key in (self._cache.get_tree(h) or {}).values() if h else ():
                    where.setdefault(key.content(), []).append((reg, project, asset, version))
        return where

    def verdict(self, key: Key) -> str:
        """``HELD``; ``GONE`` (no version known here that the registry still has lists it); or
        ``UNASKED`` (a registry that lists it could not be asked)."""
        if self._where is None:
            self._where = self._index()
        unasked = False
        for place in dict.fromkeys(self._where.get(key.content(), [])):
            state = self._versions.get(place)
            if state is None:
                state = self._versions[place] = self._ask(*place)
            if state == HELD:
                return HELD
            unasked |= state == UNASKED
        return UNASKED if unasked else GONE

    def _ask(self, reg: str, project: str, asset: str, version: str) -> str:
        url = self._urls.get(reg)
        if url is None:
            return UNASKED  # no tree or setting names this registry's URL any more
        if url not in self._clients:
            try:
                self._clients[url] = self._stack.enter_context(registry.session_for(url, None))
            except FatalError:
                self._clients[url] = None
        client = self._clients[url]
        if client is None:
            return UNASKED
        try:
            client.summary(project, asset, version)
            return HELD
        except NotFound:
            return GONE
        except RegistryError as e:
            if e.status is None:
                self._clients[url] = None  # unreachable: do not wait on it for every object
            return UNASKED


def _walk3(base: Path) -> list[tuple[str, str, str, str]]:
    """(a, b, c, name) for every ``base/a/b/c/name``."""
    out = []
    for a in _dirs(base):
        for b in _dirs(base / a):
            for c in _dirs(base / a / b):
                with contextlib.suppress(OSError):
                    out += [(a, b, c, n) for n in os.listdir(base / a / b / c)]
    return out


def _dirs(path: Path) -> list[str]:
    try:
        return [n for n in os.listdir(path) if (path / n).is_dir()]
    except OSError:
        return []


def _register_here(cache: Cache, cwd: Path) -> None:
    """gc run inside a working tree of this cache (perhaps moved) registers it first."""
    with contextlib.suppress(FatalError, OSError):
        root = gitrepo.find_root(cwd)
        if anchor_target(root) == cache.objects:
            o = origin(root)
            cache.register_worktree(root, o.url if o is not None else None)


@dataclass
class _Outcome:
    removed: int = 0
    freed: int = 0
    total: int = 0  # bytes the cache holds afterwards (or would, on a dry run)
    kept_gone: int = 0
    kept_unasked: int = 0
    keys: list[str] = field(default_factory=list)  # the objects removed (or that would be)


def gc(settings: Settings, *, max_size: str | None = None, dry_run: bool = False, force: bool = False,
       as_json: bool = False) -> int:
    limit = parse_size(max_size) if max_size is not None else None
    cache = Cache(settings.cache_dir)
    _register_here(cache, settings.cwd)
    with cache.lock("gc"), contextlib.ExitStack() as stack:
        keep, urls = _needed(cache, settings, dry_run)
        objects = list(cache.iter_objects())
        done = _evict(cache, objects, keep, None if force else Holdings(cache, urls, stack), limit, dry_run)
        if not dry_run:
            cache.clean_tmp()
    if as_json:
        output.write(json.dumps({
            "dry_run": dry_run, "removed": done.keys, "freed_bytes": done.freed,
            "kept_objects": len(objects) - done.removed,
            "kept_bytes": done.total, "worktrees": len(cache.worktrees()), "kept_gone": done.kept_gone,
            "kept_unasked": done.kept_unasked,
        }, indent=2))
    elif dry_run:
        for name in done.keys:
            output.write(f"would remove {name}")
    verb = "would remove" if dry_run else "removed"
    output.info(f"{verb} {done.removed} object(s), {output.human_bytes(done.freed)}; "
                f"kept {len(objects) - done.removed} "
                f"({output.human_bytes(done.total)}) linked from {len(cache.worktrees())} working tree(s)")
    if done.kept_gone:
        output.info(f"kept {done.kept_gone} unreferenced object(s) the registry no longer holds (no version it still "
                    "has lists them; a working tree moved elsewhere may need them): `selenite gc --force` removes them")
    if done.kept_unasked:
        output.info(f"kept {done.kept_unasked} unreferenced object(s): their registry could not be asked whether it "
                    "still holds them (`selenite gc --force` removes them anyway)")
    return 0


def _needed(cache: Cache, settings: Settings, dry_run: bool) -> tuple[set[Key], set[str]]:
    """What the registered working trees need (forgetting those that are gone), and the registry
    URLs that may be asked whether they still hold an object."""
    keep: set[Key] = set()
    urls = set(cache.registry_urls())
    with contextlib.suppress(FatalError):  # a malformed $SELENITE_URL must not stop gc
        if settings.named_url:
            urls.add(settings.named_url)
    for tree in cache.worktrees():
        if not (tree / ".git").is_dir() or anchor_target(tree) not in (None, cache.objects):
            if not dry_run:
                cache.forget_worktree(tree)
            output.info(f"forgot {tree} (no longer a working tree of this cache)")
            continue
        keep |= pins.pinned_keys(tree)
        keep |= gitfilter.pointer_keys(tree)  # committed edits not pushed yet may exist nowhere else
        with contextlib.suppress(FatalError):
            if (o := origin(tree)) is not None:
                urls.add(o.url)
    return keep, urls


def _evict(
    cache: Cache, objects: list[tuple[Key, Path, os.stat_result]], keep: set[Key], holdings: Holdings | None,
    limit: int | None, dry_run: bool,
) -> _Outcome:
    """Remove unreferenced objects, oldest first, until the cache fits ``limit`` (all when None);
    with ``holdings``, only those the registry still holds (None: --force)."""
    inodes = {st.st_ino: st.st_size for _k, _p, st in objects}
    done = _Outcome(total=sum(inodes.values()))
    refs: dict[int, int] = {}
    for _k, _p, st in objects:
        refs[st.st_ino] = refs.get(st.st_ino, 0) + 1
    for key, _path, st in sorted((o for o in objects if o[0] not in keep), key=lambda o: o[2].st_mtime):
        if limit is not None and done.total <= limit:
            break
        if holdings is not None:
            verdict = holdings.verdict(key)
            if verdict != HELD:
                done.kept_gone += verdict == GONE
                done.kept_unasked += verdict == UNASKED
                continue
        refs[st.st_ino] -= 1
        gain = st.st_size if refs[st.st_ino] == 0 else 0  # hard-linked twins free space with the last
        if not dry_run:
            cache.remove(key)
        done.keys.append(key.name)
        done.removed += 1
        done.freed += gain
        done.total -= gain
    return done
