"""`selenite check` and `selenite hook pre-commit`: refuse a commit that would record a broken tree."""

from __future__ import annotations

from pathlib import Path

from selenite import hooks
from selenite.config import Settings


def check(settings: Settings, cwd: Path | None = None) -> int:
    """Check every link of the working tree against the cache; 1 (and the reasons) when one is bad."""
    top = hooks.toplevel(cwd or Path.cwd())
    problems = hooks.check_tree(top, settings.cache_dir)
    if problems:
        hooks.report(problems, "check failed")
        return 1
    return 0


def pre_commit(settings: Settings, cwd: Path | None = None) -> int:
    """What the installed hook runs: the check, then the large-file guard when it is configured."""
    top = hooks.toplevel(cwd or Path.cwd())
    problems = hooks.check_tree(top, settings.cache_dir)
    limit = hooks.large_file_limit(top)
    if limit is not None:
        problems += hooks.large_files(top, limit)
    if problems:
        hooks.report(problems, "commit refused")
        return 1
    return 0
