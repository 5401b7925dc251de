"""`selenite check` and `selenite hook pre-commit`: refuse a commit that would record a broken tree."""

from __future__ import annotations

import sys
from pathlib import Path

from selenite import config
from selenite.check.largefiles import large_file_limit, large_files
from selenite.check.problems import Problem, ProblemKind
from selenite.check.report import fix_moved_links, report
from selenite.check.tree import check_tree
from selenite.config import Settings
from selenite.errors import FatalError
from selenite.gitrepo import toplevel


def _checked(top: Path, settings: Settings, fix: bool, in_hook: bool = False) -> list[Problem]:
    problems = check_tree(top, settings.cache_dir)
    if fix and any(p.kind == ProblemKind.MOVED for p in problems):
        fix_moved_links(top, problems, untracked_too=not in_hook)
        problems = check_tree(top, settings.cache_dir)  # the fixed links' objects, checked like any other
        if in_hook:  # untracked moved links are not in the commit: named above, never a reason to refuse it
            problems = [p for p in problems if p.kind != ProblemKind.MOVED]
    return problems


def check(settings: Settings, fix: bool = False) -> int:
    """Check every link of the working tree against the cache; 1 (and the reasons) when one is bad."""
    top = toplevel(settings.cwd)
    problems = _checked(top, settings, fix)
    if problems:
        report(problems, "check failed")
        return 1
    return 0


def pre_commit(settings: Settings) -> int:
    """What the installed hook runs: the check, then the large-file guard when it is configured."""
    top = toplevel(settings.cwd)
    problems = _checked(top, settings, fix=True, in_hook=True)
    limit = large_file_limit(top)
    if limit is not None:
        problems += large_files(top, limit)
    if problems:
        report(problems, "commit refused")
        return 1
    return 0


def main() -> None:
    """The installed hook's entry point (``python -m selenite.commands.check``).

    Same as ``selenite hook pre-commit``, without importing the CLI (typer, rich): the hook runs on
    every commit, and start-up time is most of the wait on small trees.
    """
    try:
        code = pre_commit(config.load())
    except FatalError as e:  # the common failure, printed as the CLI prints it
        sys.stderr.write(f"selenite: error: {e}\n")
        code = 1
    except BaseException as e:
        # The crash log and its one line, exactly as for every other command (rich: only on a crash).
        from selenite.error_handler import error_handler  # noqa: PLC0415

        with error_handler():
            raise e
    raise SystemExit(code)


if __name__ == "__main__":
    main()
