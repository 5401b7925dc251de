"""`selenite gc [--max-size SIZE] [--dry-run]`: remove objects no registered working tree links to.

Oldest first (by the time the object was stored). With ``--max-size`` it stops as soon as the
cache fits; without it, every unreferenced object goes. Registered trees that no longer exist (or
now use another cache) are forgotten first.
"""

from __future__ import annotations

import re

from selenite import gitfilter, output, worktree
from selenite.cache import Cache
from selenite.config import Settings
from selenite.errors import FatalError
from selenite.keys import Key
from selenite.util import human_bytes

_SIZE_RE = re.compile(r"^\s*([0-9]+(?:\.[0-9]+)?)\s*([kmgtp]?)(i?b)?\s*$", re.IGNORECASE)
_UNITS = {"": 1, "k": 1 << 10, "m": 1 << 20, "g": 1 << 30, "t": 1 << 40, "p": 1 << 50}


def parse_size(text: str) -> int:
    """``0``, ``500M``, ``10G``, ``1.5GiB`` -> bytes (units are powers of 1024)."""
    m = _SIZE_RE.match(text)
    if m is None:
        raise FatalError(f"--max-size {text!r}: expected a size such as 0, 500M or 10G")
    return int(float(m.group(1)) * _UNITS[m.group(2).lower()])


def gc(settings: Settings, *, max_size: str | None = None, dry_run: bool = False) -> int:
    limit = parse_size(max_size) if max_size is not None else None
    cache = Cache(settings.cache_dir)
    with cache.lock("gc"):
        keep: set[Key] = set()
        for tree in cache.worktrees():
            if not (tree / ".git").is_dir() or worktree.anchor_target(tree) not in (None, cache.objects):
                if not dry_run:
                    cache.forget_worktree(tree)
                output.info(f"forgot {tree} (no longer a working tree of this cache)")
                continue
            keep |= worktree.linked_keys(tree)
            keep |= gitfilter.pointer_keys(tree)  # committed edits not pushed yet may exist nowhere else
        objects = list(cache.iter_objects())
        inodes: dict[int, int] = {}
        for _k, _p, st in objects:
            inodes[st.st_ino] = st.st_size
        total = sum(inodes.values())
        refs: dict[int, int] = {}
        for _k, _p, st in objects:
            refs[st.st_ino] = refs.get(st.st_ino, 0) + 1
        candidates = sorted((o for o in objects if o[0] not in keep), key=lambda o: o[2].st_mtime)
        removed = freed = 0
        for key, _path, st in candidates:
            if limit is not None and total <= limit:
                break
            refs[st.st_ino] -= 1
            gain = st.st_size if refs[st.st_ino] == 0 else 0  # hard-linked twins free space with the last
            if dry_run:
                output.write(f"would remove {key.name}")
            else:
                cache.remove(key)
            removed += 1
            freed += gain
            total -= gain
        if not dry_run:
            cache.clean_tmp()
    verb = "would remove" if dry_run else "removed"
    output.info(f"{verb} {removed} object(s), {human_bytes(freed)}; kept {len(objects) - removed} "
                f"({human_bytes(total)}) linked from {len(cache.worktrees())} working tree(s)")
    return 0
