"""`selenite check` and `selenite hook pre-commit`: refuse a commit that would record a broken tree."""

from __future__ import annotations

import sys
from pathlib import Path

from selenite import hooks
from selenite.config import Settings


def _checked(top: Path, settings: Settings, fix: bool, in_hook: bool = False) -> list[hooks.Problem]:
    problems = hooks.check_tree(top, settings.cache_dir)
    if fix and any(p.kind == "moved" for p in problems):
        hooks.fix_moved_links(top, problems, untracked_too=not in_hook)
        problems = hooks.check_tree(top, settings.cache_dir)  # the fixed links' objects, checked like any other
        if in_hook:  # untracked moved links are not in the commit: named above, never a reason to refuse it
            problems = [p for p in problems if p.kind != "moved"]
    return problems


def check(settings: Settings, cwd: Path | None = None, fix: bool = False) -> int:
    """Check every link of the working tree against the cache; 1 (and the reasons) when one is bad."""
    top = hooks.toplevel(cwd or Path.cwd())
    problems = _checked(top, settings, fix)
    if problems:
        hooks.report(problems, "check failed")
        return 1
    return 0


def pre_commit(settings: Settings, cwd: Path | None = None) -> int:
    """What the installed hook runs: the check, then the large-file guard when it is configured."""
    top = hooks.toplevel(cwd or Path.cwd())
    problems = _checked(top, settings, fix=True, in_hook=True)
    limit = hooks.large_file_limit(top)
    if limit is not None:
        problems += hooks.large_files(top, limit)
    if problems:
        hooks.report(problems, "commit refused")
        return 1
    return 0


def main() -> None:
    """The installed hook's entry point (``python -m selenite.commands.check``).

    Same as ``selenite hook pre-commit``, without importing the CLI (typer, rich): the hook runs on
    every commit, and start-up time is most of the wait on small trees.
    """
    from selenite import config
    from selenite.errors import FatalError

    try:
        code = pre_commit(config.load())
    except FatalError as e:  # the common failure, printed as the CLI prints it
        sys.stderr.write(f"selenite: error: {e}\n")
        code = 1
    except BaseException as e:
        from selenite.error_handler import error_handler

        with error_handler():  # crash log and one line, exactly as for every other command
            raise e
    raise SystemExit(code)


if __name__ == "__main__":
    main()
