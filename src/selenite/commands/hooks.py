"""`selenite hooks install|uninstall`: put selenite's pre-commit hook in place, or take it away."""

from __future__ import annotations

from pathlib import Path

from selenite import gitfilter, output
from selenite.gitrepo import toplevel
from selenite.hook import install as hook


def install(cwd: Path) -> int:
    top = toplevel(cwd)
    gitfilter.configure(top)  # first: a hook refused below must not leave Git storing data
    path = hook.install(top)
    legacy = path.with_name(path.name + hook.LEGACY_SUFFIX)
    note = f" (runs {legacy.name} first)" if legacy.exists() else ""
    output.info(f"selenite: pre-commit hook installed at {path}{note}")
    output.info("selenite: Git stores data files as pointers here (filter.selenite; see docs/user/editing.md)")
    return 0


def uninstall(cwd: Path) -> int:
    top = toplevel(cwd)
    path, removed = hook.uninstall(top)
    if removed:
        restored = " (the hook it chained is back in place)" if path.exists() else ""
        output.info(f"selenite: pre-commit hook removed from {path}{restored}")
    else:
        output.info(f"selenite: no selenite pre-commit hook at {path}; nothing to do")
    return 0
