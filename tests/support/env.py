"""An isolated environment for every process a test or benchmark runs: no real home, git config,
selenite config or cache is read or written, and git has a fixed identity."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

# Variables of the caller's environment that would change what selenite, git or gypsum_client do.
DROPPED_PREFIXES = ("GIT_", "SELENITE_", "GYPSUM_")


def isolated_vars(home: Path, git_template: Path, cache: Path, who: str = "Test User",
                  email: str = "test@example.com") -> dict[str, str]:
    """The variables to set: HOME and the XDG folders under ``home``, an empty git template, no
    system git config, a git identity, and ``cache`` as the selenite cache."""
    env = {
        "HOME": str(home),
        "XDG_CONFIG_HOME": str(home / ".config"),
        "XDG_CACHE_HOME": str(home / ".cache"),
        "XDG_STATE_HOME": str(home / ".state"),
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_TEMPLATE_DIR": str(git_template),
        "SELENITE_CACHE": str(cache),
    }
    for role in ("AUTHOR", "COMMITTER"):
        env[f"GIT_{role}_NAME"] = who
        env[f"GIT_{role}_EMAIL"] = email
    return env


def isolated_environ(base: Path, environ: Mapping[str, str] | None = None, **kw: str) -> dict[str, str]:
    """A whole environment: ``environ`` (default: this process's) without the variables that leak
    settings in, plus `isolated_vars` for folders under ``base`` (created here)."""
    home, template = base / "home", base / "git-template"
    home.mkdir(parents=True, exist_ok=True)
    template.mkdir(parents=True, exist_ok=True)
    source = os.environ if environ is None else environ
    kept = {k: v for k, v in source.items() if not k.startswith(DROPPED_PREFIXES)}
    return {**kept, **isolated_vars(home, template, base / "cache", **kw)}
