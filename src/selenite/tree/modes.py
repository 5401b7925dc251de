"""Link modes: how a working tree holds its files (docs/user/link-modes.md), and choosing one.

``symlink`` (links into the cache, the default), ``hardlink`` (the cache's objects themselves,
read-only) or ``copy`` (writable copies); ``auto`` tries them in that order.
"""

from __future__ import annotations

import os
from pathlib import Path

from selenite import output
from selenite.cache import Cache
from selenite.errors import FatalError

SYMLINK = "symlink"
HARDLINK = "hardlink"
COPY = "copy"
AUTO = "auto"
MODES = (SYMLINK, HARDLINK, COPY)


def check_requested(requested: str) -> None:
    """Refuse a ``--link-mode`` value that names no mode (before anything is fetched or made)."""
    if requested not in (*MODES, AUTO):
        raise FatalError(f"--link-mode {requested!r}: expected symlink, hardlink, copy or auto")


def choose(root: Path, cache: Cache, requested: str) -> str:
    """The mode to clone with. ``auto`` tries symlink, hardlink, copy in that order and says which
    it used; an explicit mode that this filesystem refuses is a clear error."""
    check_requested(requested)
    order = list(MODES) if requested == AUTO else [requested]
    refused: list[str] = []
    for mode in order:
        why = _probe(root, cache, mode)
        if why is None:
            if requested == AUTO:
                note = f" ({'; '.join(refused)})" if refused else ""
                output.info(f"link mode auto: using {mode}{note}")
            return mode
        refused.append(f"{mode}s refused here: {why}")
        if requested != AUTO:
            hint = "hardlink or copy" if mode == SYMLINK else "copy"
            raise FatalError(f"--link-mode {mode}: {refused[-1]}; use --link-mode {hint} (or auto)")
    raise AssertionError("copy mode cannot be refused")


def _probe(root: Path, cache: Cache, mode: str) -> str | None:
    """None when ``mode`` works for files in ``root`` from ``cache``; else the reason it does not."""
    probe = root / f".selenite-probe-{os.getpid()}"
    if mode == SYMLINK:
        try:
            os.symlink(".", probe)
        except OSError as e:
            return e.strerror or str(e)
        os.unlink(probe)
        return None
    if mode == HARDLINK:
        src = cache.tmp / f"probe-{os.getpid()}"
        src.write_bytes(b"")
        try:
            os.link(src, probe)
        except OSError as e:
            return f"{e.strerror or e} (from the cache at {cache.root})"
        finally:
            src.unlink()
        os.unlink(probe)
    return None
