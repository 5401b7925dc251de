"""What the check finds: one ``Problem`` per path, of a ``ProblemKind``."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class ProblemKind(StrEnum):
    CORRUPTED = "corrupted"  # the object behind a link no longer matches its key
    OUTSIDE = "outside"  # a link that must not be committed (absolute, leaving the tree, into .git)
    UNKNOWN = "unknown"  # a link to content neither cached nor held by the registry
    DESTROYED = "destroyed"  # a regular file holding only a link's text
    LARGE = "large"  # a big regular file staged into Git (selenite.largefiles)
    MOVED = "moved"  # a link moved to another folder depth (fixable)


@dataclass(frozen=True)
class Problem:
    path: str
    kind: ProblemKind
    detail: str

    def __str__(self) -> str:
        return f"{self.path}: {self.detail}"
