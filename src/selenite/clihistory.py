"""Typer wiring of the verbs that read an asset's history: log, diff (``cli.py`` wires the rest and
calls :func:`register`). Like cli.py, each verb imports its command only when it runs."""

from __future__ import annotations

from typing import Annotated

import typer

from selenite import config
from selenite.cliopts import CacheOpt, JsonOpt, UrlOpt


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


def register(app: typer.Typer) -> None:
    """Add these verbs to the ``selenite`` app."""
    for verb in (log, diff):
        app.command()(verb)
