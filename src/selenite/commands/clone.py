"""`selenite clone PROJECT/ASSET[@VERSION] [DIR]`: a Git working tree of links into the cache
(the work is ``selenite.api.clone``'s, shared with ``selenite.clone``)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from selenite.api import clone as api
from selenite.config import Settings


def clone(
    settings: Settings, source: str, directory: Path | None, *, download: bool = True, jobs: int = 8,
    link_mode: str = "symlink", include: Sequence[str] = (), exclude: Sequence[str] = (),
) -> int:
    api.clone(settings, source, directory, download=download, jobs=jobs, link_mode=link_mode,
              include=include, exclude=exclude)
    return 0
