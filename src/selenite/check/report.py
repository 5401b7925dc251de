"""Telling the user what the check found, and fixing what can be fixed without asking (moved links)."""

from __future__ import annotations

import os
from pathlib import Path

from selenite import gitrepo, safepath
from selenite.check.problems import Problem, ProblemKind
from selenite.tree.links import link_text, parse_link_text

_FIXES: dict[ProblemKind, str] = {
    ProblemKind.CORRUPTED: (
        "selenite fsck --repair    keeps your edited bytes as a real file at that path and restores the "
        "cached object from the registry (nothing is lost); then commit again"),
    ProblemKind.DESTROYED: (
        "selenite fsck --repair    turns the file back into its link (it holds nothing but the link's "
        "text); or: git checkout HEAD -- PATH"),
    ProblemKind.OUTSIDE: (
        "git checkout HEAD -- PATH puts the committed link back; or, to commit that content, replace "
        "the link by a copy: cp --remove-destination \"$(readlink -f PATH)\" PATH"),
    ProblemKind.UNKNOWN: (
        "git checkout HEAD -- PATH puts the committed link back (no cached version of this dataset "
        "holds that content, so nothing could fetch it later)"),
    ProblemKind.MOVED: (
        "selenite check --fix      rewrites the link text for its new folder depth (the pre-commit hook "
        "does this by itself)"),
    ProblemKind.LARGE: (
        "git rm --cached PATH      unstages the file and keeps it; `selenite push` then publishes it to "
        "the registry and makes it a link into the cache, so the data never lands in Git history"),
}


def fix_moved_links(top: Path, problems: list[Problem], *, untracked_too: bool) -> list[Problem]:
    """Rewrite the text of links moved to another folder depth; return the problems that remain.

    Only links already in the index (the one this commit is made from: `git add` keeps
    ``GIT_INDEX_FILE``, so `commit -a` works) are rewritten and staged again, as git-annex's
    pre-commit hook fixes only staged links: the hook never adds a file the user did not stage.
    Untracked moved links are not part of the commit: with ``untracked_too`` (`selenite check
    --fix`) their text is rewritten, never staged; otherwise (the hook) they are left as they are
    and only named. The object behind each fixed link is checked on the next pass like any other."""
    moved = [p.path for p in problems if p.kind == ProblemKind.MOVED]
    if not moved:
        return problems
    from selenite import output  # noqa: PLC0415 -- rich: the hook imports it only when it has something to say

    indexed = set(gitrepo.in_index(top, moved))
    staged = [rel for rel in moved if rel in indexed]
    untracked = [rel for rel in moved if rel not in indexed]
    for rel in staged + (untracked if untracked_too else []):
        parsed = parse_link_text(os.readlink(top / rel))
        assert parsed is not None  # check_tree reported it because it parsed
        fixed = link_text(rel, parsed.key)
        tmp = safepath.temp_beside(top / rel)  # short: a 255-byte name leaves no room for a suffix
        os.symlink(fixed, tmp)
        os.replace(tmp, top / rel)
    if staged:
        gitrepo.stage(top, staged)
        output.error(f"selenite: fixed {len(staged)} link(s) moved to another folder depth")
    if untracked and untracked_too:
        output.error(f"selenite: fixed {len(untracked)} untracked link(s) moved to another folder depth (not staged)")
    elif untracked:
        output.error(f"selenite: note: {len(untracked)} untracked link(s) moved to another folder depth left as they "
                     f"are (e.g. {untracked[0]}; not in this commit): `selenite check --fix` rewrites them")
    return [p for p in problems if p.kind != ProblemKind.MOVED]


def report(problems: list[Problem], what: str) -> None:
    """Print each problem (one line per path) and, once per kind, the fix that loses nothing."""
    from selenite import output  # noqa: PLC0415 -- rich: see fix_moved_links

    n = len(problems)
    output.error(f"selenite: {what}: {n} problem{'s' if n != 1 else ''} in the working tree")
    for p in problems:
        output.error(f"  {p}")
    output.error("To fix without losing anything:")
    for kind in dict.fromkeys(p.kind for p in problems):
        output.error(f"  {_FIXES[kind]}")
