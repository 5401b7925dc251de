"""The optional large-file guard: refuse big regular files staged into Git (``selenite.largefiles``)."""

from __future__ import annotations

from pathlib import Path

from selenite import gitrepo
from selenite.check.problems import Problem, ProblemKind
from selenite.errors import FatalError
from selenite.gitrepo import blobs
from selenite.gitrepo.listings import Listings, index_entry


def large_file_limit(top: Path) -> int | None:
    """``git config selenite.largefiles`` in bytes (git parses 10k/10M/1G), or None when unset."""
    try:
        value = gitrepo.config_int(top, "selenite.largefiles")
    except ValueError as e:
        raise FatalError(f"selenite.largefiles: {str(e) or 'not a size'} (use e.g. 10M)") from None
    return value if value is not None and value > 0 else None


def large_files(top: Path, limit: int) -> list[Problem]:
    """Staged regular files (added or changed) above ``limit`` bytes."""
    views = Listings(top, "staged", "index")
    if views.has_head:
        staged = views.staged().items()
        shas = {path: c.new_sha for path, c in staged if c.status in "AMT" and c.new_mode.startswith("100")}
    else:  # the first commit: everything in the index is new
        entries = {path: index_entry(meta) for path, meta in views.index().items()}
        shas = {path: e.sha for path, e in entries.items() if e is not None and e.mode.startswith("100")}
    views.close()
    sizes = blobs.blob_sizes(top, shas.values())
    large = [(path, sizes[sha]) for path, sha in sorted(shas.items()) if sizes.get(sha, 0) > limit]
    if not large:
        return []
    from selenite.output import human_bytes  # noqa: PLC0415 - only on a refusal: rich is slow to import for a hook

    return [
        Problem(path, ProblemKind.LARGE, f"{human_bytes(size)} staged as a regular Git file, above "
                                         f"selenite.largefiles ({human_bytes(limit)})")
        for path, size in large
    ]
