"""Version tags: which names can be one, making one, listing them."""

from __future__ import annotations

import functools
from pathlib import Path

from selenite.gitrepo import _query, _run


def tag_name_problem(name: str) -> str | None:
    """Why ``name`` cannot be a version's Git tag (None when it can): what ``git check-ref-format``
    refuses, and a leading '-' (git commands would read the name as an option)."""
    if name.startswith("-"):
        return "starts with '-'"
    if name in {"@", "HEAD"} or name.endswith("_HEAD"):
        return "is '@' or a name Git gives its own refs (HEAD, FETCH_HEAD, ...)"
    if "\0" in name or not _valid_ref(f"refs/tags/{name}"):
        return "is not a valid Git tag name (git check-ref-format)"
    return None


@functools.cache
def _valid_ref(ref: str) -> bool:
    """``git check-ref-format ref`` passes: asked once per name and process (a push asked about its
    version's tag six times)."""
    return _query(None, "check-ref-format", ref) is not None


def tag(root: Path, name: str, commit_sha: str) -> bool:
    """Tag ``commit_sha`` as ``name`` when that is a valid and free tag name; True if tagged.
    ``update-ref`` with an empty old value: the name is never parsed as an option, and a tag that
    exists already is left alone."""
    if tag_name_problem(name) is not None:
        return False
    # A failure means the name is taken.
    return _query(root, "update-ref", "-m", "selenite: version tag", f"refs/tags/{name}", commit_sha, "") is not None


def tag_refs(root: Path) -> list[str]:
    """Every tag (``refs/tags/...``) of the repository."""
    out = _run(root, "for-each-ref", "--format=%(refname)", "refs/tags")
    return out.decode("utf-8", "surrogateescape").splitlines()
