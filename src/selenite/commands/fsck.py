"""`selenite fsck [--repair]`: re-hash every object this tree links to.

``--repair`` loses nothing the user wrote: when an object was edited through its link, the edited
bytes are first kept as a real file at each path that links to it, then the object is restored
from the registry. A "destroyed" link (a file holding only a link's text) becomes a link again.
"""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path

from selenite import output, registry, safepath
from selenite.cache import Cache
from selenite.config import Settings
from selenite.errors import FatalError
from selenite.keys import Key, iter_chunks
from selenite.transfer import fetch_objects, resolve_sources
from selenite.tree.entry import Entry, PathStatus
from selenite.tree.layout import layout_of
from selenite.tree.origin import Origin
from selenite.tree.symlinks import relink
from selenite.util import atomic_write_chunks, user_file_mode
from selenite.workspace import open_tree


def fsck(settings: Settings, *, repair: bool = False, as_json: bool = False) -> int:
    if repair and as_json:
        raise FatalError("--json reports what fsck finds; run --repair without it")
    root, o, cache = open_tree(settings)
    layout = layout_of(root)
    entries = layout.scan(cache, include_deleted=False, check_objects=False)
    by_key: dict[Key, list[str]] = defaultdict(list)
    for e in entries:
        # Only a path that writes through to the object keeps its bytes on repair; in a hardlink/copy
        # tree a copy is the user's own file.
        if e.key is not None and e.status != PathStatus.DESTROYED and layout.shares_object(e, cache):
            by_key[e.key].append(e.path)
    bad: list[Key] = []
    missing = 0
    for key in sorted(by_key):
        if not cache.has(key):
            missing += 1
        elif not cache.verify(key):  # a full re-hash, whatever the stat says
            bad.append(key)
    destroyed = [e for e in entries if e.status == PathStatus.DESTROYED]
    outside = [e for e in entries if e.status == PathStatus.OUTSIDE]
    checked = len(by_key) - missing
    if as_json:
        output.write(json.dumps({
            "checked": checked, "missing": missing,
            "corrupted": [{"path": path, "key": key.name} for key in bad for path in by_key[key]],
            "destroyed": [e.path for e in destroyed],
            "outside": [{"path": e.path, "target": str(e.target)} for e in outside],
        }, indent=2))
        return 1 if bad or destroyed else 0
    _show(bad, by_key, destroyed, outside, missing)
    if not repair:
        if bad or destroyed:
            output.info(f"checked {checked} object(s): {len(bad)} corrupted, {len(destroyed)} destroyed link(s); "
                        "`selenite fsck --repair` fixes them and keeps your edits as real files")
            return 1
        output.info(f"checked {checked} object(s): all good")
        return 0
    return _repair(root, o, cache, settings, bad, by_key, destroyed)


def _show(bad: list[Key], by_key: dict[Key, list[str]], destroyed: list[Entry],
          outside: list[Entry], missing: int) -> None:
    """One line per damaged path on stdout; notes on stderr."""
    for key in bad:
        for path in by_key[key]:
            output.write(f"corrupted  {output.printable(path)}  (object {key.name} no longer matches its key)")
    for e in destroyed:
        output.write(f"destroyed  {output.printable(e.path)}  (a file holding only a link's text)")
    for e in outside:
        output.info(f"note: {e.path} links outside the cache ({e.target})")
    if missing:
        output.info(f"note: {missing} object(s) are not fetched (`selenite get` brings them)")


def _repair(
    root: Path, o: Origin, cache: Cache, settings: Settings, bad: list[Key],
    by_key: dict[Key, list[str]], destroyed: list[Entry],
) -> int:
    for key in bad:
        for path in by_key[key]:
            _keep_as_file(cache, key, safepath.parent(root, path))
            output.info(f"kept the edited bytes of {path} as a real file")
    for e in destroyed:
        assert e.key is not None
        relink(root, e.path, e.key)  # only a symlink tree has destroyed links
        output.info(f"{e.path} is a link again")
    failed = 0
    if bad:
        with registry.session_for(*settings.endpoint(o.url).pair()) as client:
            sources = resolve_sources(client, cache, o, bad, strict=False)
            for key in bad:
                if key not in sources:
                    cache.remove(key, keep_damaged=False)  # its bytes are safe in the real files kept above
                    output.error(f"the registry has no copy of {key.name}: removed the bad object")
                    failed += 1
            fetch_objects(client, cache, sources, replace=True)
    fixed = len(bad) - failed
    output.info(f"repaired {fixed} object(s) and {len(destroyed)} link(s)")
    return 1 if failed else 0


def _keep_as_file(cache: Cache, key: Key, full: Path) -> None:
    """Copy the (edited) object's bytes to a real, writable file replacing the link at ``full``."""
    with open(cache.object_path(key), "rb") as src:
        atomic_write_chunks(full, iter_chunks(src), user_file_mode())
