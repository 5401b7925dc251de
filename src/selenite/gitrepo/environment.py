"""What gitrepo reads of the process's environment to find or make a repository.

``may_be_in_repository`` answers "no repository here" without starting git; ``IDENTITY_ENV`` names
the ``GIT_*`` variables that choose an identity or a configuration (kept everywhere), and
``without_repository_variables`` takes the others (a hook's ``GIT_DIR``, ``GIT_INDEX_FILE``...) out
for the ``git init`` of a new repository.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path

IDENTITY_ENV = {
    "GIT_AUTHOR_NAME", "GIT_AUTHOR_EMAIL", "GIT_COMMITTER_NAME", "GIT_COMMITTER_EMAIL",
    "GIT_CONFIG_NOSYSTEM", "GIT_TEMPLATE_DIR", "GIT_CONFIG_GLOBAL",
}


@contextlib.contextmanager
def without_repository_variables() -> Iterator[None]:
    """The caller's ``GIT_*`` variables that point at *its* repository (a hook's GIT_DIR,
    GIT_INDEX_FILE...) removed from the environment for the block; identity and config choices
    are kept. GitPython can add variables to a git's environment but not remove them, so they are
    taken out of ``os.environ`` itself: only ``init`` does this, before any thread of the command
    starts a git."""
    saved = {k: v for k, v in os.environ.items() if k.startswith("GIT_") and k not in IDENTITY_ENV}
    for k in saved:
        del os.environ[k]
    try:
        yield
    finally:
        os.environ.update(saved)


def may_be_in_repository(cwd: Path) -> bool:
    """False only when git could not find a repository from ``cwd`` either: no ``.git`` in it or
    any folder above, and no ``GIT_DIR`` naming one. Outside a tree, a command then says so without
    starting git (or importing GitPython)."""
    if "GIT_DIR" in os.environ:
        return True
    folder = os.path.abspath(cwd)
    while True:
        if os.path.lexists(os.path.join(folder, ".git")):
            return True
        parent = os.path.dirname(folder)
        if parent == folder:
            return False
        folder = parent
