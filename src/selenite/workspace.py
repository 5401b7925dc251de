"""The working tree a command runs in: found from the current directory, its origin recorded in
git config, its filter configured and its cache anchored, once per command."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from selenite import gitrepo
from selenite.config import Endpoint, Settings
from selenite.errors import FatalError, NotAWorkingTree
from selenite.tree.origin import Origin, origin, record_origin, require_origin

if TYPE_CHECKING:
    from selenite.cache import Cache


def open_tree(settings: Settings) -> tuple[Path, Origin, Cache]:
    """The working tree around the command's directory, its origin (recorded again in git config if it only came
    from commit trailers, e.g. after a plain `git clone`), and its cache (anchor recreated).

    Every command pays for this: git config is read once (``config_all``), and nothing is written
    (git config, filter set-up, the cache's database) when it already says what it should."""
    root = gitrepo.find_root(settings.cwd)
    # Imported once a tree is found (the cache, sqlite, the layouts): a command run outside a tree
    # fails in the time of Python, typer and one git call, and registry_endpoint's verbs skip them.
    from selenite import gitfilter  # noqa: PLC0415
    from selenite.cache import Cache  # noqa: PLC0415
    from selenite.tree.anchor import anchor_target, make_anchor, tree_cache  # noqa: PLC0415
    from selenite.tree.layout import mode_to_record  # noqa: PLC0415

    config = gitrepo.config_all(root)
    ours = {k.removeprefix("selenite."): v for k, v in config.items() if k.startswith("selenite.")}
    o = require_origin(root, ours)
    if not ours.get("url", "").strip() or ours.get("version", "").strip() != o.version:
        record_origin(root, o, mode_to_record(root))  # after a plain `git clone`, or a checkout/pull of another version
    gitfilter.ensure_configured(root, config)  # e.g. a plain `git clone`: it has no filter yet
    if anchor_target(root) is None:
        cache = Cache(settings.cache_dir)
        make_anchor(root, cache)
    else:
        cache = tree_cache(root, settings.cache_dir)
    cache.register_worktree(root, o.url)  # again at every command: a tree moved with `mv` is found again
    return root, o, cache


def registry_endpoint(settings: Settings) -> Endpoint:
    """The registry a registry-level verb (whoami, permissions, approve, remove) talks to: the one
    named by ``--url`` or ``$SELENITE_URL``; else, inside a working tree, the one it records; else
    the last login's. The token rules are ``Settings.endpoint``'s."""
    recorded = None
    if not settings.named_url:
        try:
            o = origin(gitrepo.find_root(settings.cwd))
        except (NotAWorkingTree, FatalError):  # outside a tree, or a tree that records nothing usable
            o = None
        recorded = o.url if o else None
    return settings.endpoint(recorded)
