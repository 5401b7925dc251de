"""Typer wiring of the history verbs: log, diff (reading an asset's history) and fetch, pull,
checkout (moving a tree along it); ``cli.py`` wires the rest and calls :func:`register`. Like
cli.py, each verb imports its command only when it runs."""

from __future__ import annotations

from typing import Annotated

import typer

from selenite import config
from selenite.cliopts import CacheOpt, JobsOpt, JsonOpt, TokenOpt, UrlOpt


def log(
    target: Annotated[str | None, typer.Argument(
        metavar="[PROJECT/ASSET]", help="The asset (default: the working tree's).")] = None,
    max_count: Annotated[int | None, typer.Option("-n", "--max-count", min=1, help="Show the newest N only.")] = None,
    as_json: JsonOpt = False,
    url: UrlOpt = None,
    cache: CacheOpt = None,
) -> None:
    """An asset's versions, newest first, with uploader, time, files and size.

    The latest version and probational ones are marked.
    Inside a working tree the asset is the tree's; anywhere else name it as PROJECT/ASSET."""
    from selenite.commands import log as cmd

    raise typer.Exit(cmd.log(config.load(url, None, cache), target, max_count=max_count, as_json=as_json))


def diff(
    refs: Annotated[list[str] | None, typer.Argument(
        metavar="VERSION", help="At most two: A and B, each a VERSION of the tree's asset or PROJECT/ASSET@VERSION. "
        "None: the tree's version vs the working tree; one: that version vs the working tree.")] = None,
    stat: Annotated[bool, typer.Option(
        "--stat", help="Counts and bytes of each kind of change instead of the paths (--json has both).")] = False,
    as_json: JsonOpt = False,
    url: UrlOpt = None,
    cache: CacheOpt = None,
) -> None:
    """Files added, deleted, modified and renamed between versions, or a version and the tree.

    Read from manifests alone: nothing is downloaded.
    A rename is a path gone and a new path with the same content.
    Exit 0 when equal, 1 when they differ, 2 on an error (like `git diff --exit-code`)."""
    from selenite.commands import diff as cmd

    raise typer.Exit(cmd.diff(config.load(url, None, cache), refs or [], stat=stat, as_json=as_json))


NoDownloadOpt = Annotated[bool, typer.Option(
    "--no-download", help="Move the links only; `selenite get` fetches the content later.")]


def fetch(
    version: Annotated[str | None, typer.Option("--version", help="Fetch this version only.")] = None,
    download: Annotated[bool, typer.Option(
        "--download", help="Also download the content of the latest (or named) version the cache lacks.")] = False,
    jobs: JobsOpt = 8,
    url: UrlOpt = None,
    token: TokenOpt = None,
    cache: CacheOpt = None,
) -> None:
    """Bring the registry's newer versions in as Git commits and tags; the tree does not move.

    Each version becomes the same commit in every clone (docs/user/history.md);
    refs/remotes/registry/latest follows the registry's latest."""
    from selenite.commands import fetch as cmd

    raise typer.Exit(cmd.fetch(config.load(url, token, cache), version=version, download=download, jobs=jobs))


def pull(
    version: Annotated[str | None, typer.Option("--version", help="Pull this version (default: the latest).")] = None,
    no_download: NoDownloadOpt = False,
    jobs: JobsOpt = 8,
    url: UrlOpt = None,
    token: TokenOpt = None,
    cache: CacheOpt = None,
) -> None:
    """Fetch, then fast-forward or merge the latest version into the tree, as `git pull` does.

    Conflicts stop it (exit 1) with Git's markers; uncommitted edits it would overwrite are refused.
    Only the changed paths' content the cache lacks is downloaded."""
    from selenite.commands import pull as cmd

    raise typer.Exit(cmd.pull(config.load(url, token, cache), version=version, download=not no_download, jobs=jobs))


def checkout(
    version: Annotated[str, typer.Argument(help="The version to move the tree to.")],
    no_download: NoDownloadOpt = False,
    jobs: JobsOpt = 8,
    url: UrlOpt = None,
    token: TokenOpt = None,
    cache: CacheOpt = None,
) -> None:
    """Move the tree to another version of its asset (detached HEAD, as `git checkout TAG`).

    Refuses to overwrite uncommitted edits; fetches the version's commit and content if needed."""
    from selenite.commands import checkout as cmd

    raise typer.Exit(cmd.checkout(config.load(url, token, cache), version, download=not no_download, jobs=jobs))


def register(app: typer.Typer) -> None:
    """Add these verbs to the ``selenite`` app."""
    for verb in (log, diff, fetch, pull, checkout):
        app.command()(verb)
