"""Typer wiring of the owner and administrator verbs: approve, reject, remove, permissions, whoami,
and the token verbs (``cli.py`` wires the rest and calls :func:`register`).

Command modules are imported inside each command, as in ``cli.py``, so none of them slows the
start-up of the others.
"""

from __future__ import annotations

from typing import Annotated

import typer

from selenite import config
from selenite.cliopts import (
    JsonOpt,
    RootOpt,
    S3AddressingOpt,
    S3ChecksumsOpt,
    S3EndpointOpt,
    S3RegionOpt,
    StorageOpt,
    TokenOpt,
    UrlOpt,
    s3_settings,
)

VersionRef = Annotated[str, typer.Argument(metavar="PROJECT/ASSET@VERSION", help="The probational version.")]

token_app = typer.Typer(help="Manage the registry's bearer tokens (on its storage: run where the registry lives).",
                        no_args_is_help=True, rich_markup_mode=None)  # plain, as cli.app
permissions_app = typer.Typer(help="Show or change who owns a project and who may upload to it.",
                              no_args_is_help=True, rich_markup_mode=None)


def approve(target: VersionRef, url: UrlOpt = None, token: TokenOpt = None) -> None:
    """Make a probational version official (owners, admins); it becomes the latest if it is the newest."""
    from selenite.commands import owner as cmd

    raise typer.Exit(cmd.approve(config.load(url, token), target))


def reject(target: VersionRef, url: UrlOpt = None, token: TokenOpt = None) -> None:
    """Delete a probational version (owners, admins, or the user who uploaded it)."""
    from selenite.commands import owner as cmd

    raise typer.Exit(cmd.reject(config.load(url, token), target))


def remove(
    target: Annotated[str, typer.Argument(metavar="PROJECT[/ASSET[@VERSION]]", help="What to delete.")],
    force: Annotated[bool, typer.Option(
        "--force", help="Remove even while other versions link into it: the registry first copies the linked "
                        "files into them (a selenite registry; elsewhere their links would dangle).")] = False,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask (required when stdin is not a terminal).")
                   ] = False,
    url: UrlOpt = None,
    token: TokenOpt = None,
) -> None:
    """Delete a project, an asset or a version from the registry (administrators only).

    Refused, naming them, while later versions link into it, unless --force. Asks for confirmation
    unless --yes."""
    from selenite.commands import remove as cmd

    raise typer.Exit(cmd.remove(config.load(url, token), target, force=force, yes=yes))


def whoami(as_json: JsonOpt = False, url: UrlOpt = None, token: TokenOpt = None) -> None:
    """The user your token belongs to on the registry, and whether they administer it."""
    from selenite.commands import owner as cmd

    raise typer.Exit(cmd.whoami(config.load(url, token), as_json=as_json))


@permissions_app.command("show")
def permissions_show(
    project: Annotated[str, typer.Argument(help="The project.")], as_json: JsonOpt = False, url: UrlOpt = None
) -> None:
    """List a project's owners and uploaders (with the asset, version, expiry and trust of each grant)."""
    from selenite.commands import owner as cmd

    raise typer.Exit(cmd.show_permissions(config.load(url), project, as_json=as_json))


@permissions_app.command("set")
def permissions_set(
    project: Annotated[str, typer.Argument(help="The project.")],
    owner: Annotated[list[str], typer.Option("--owner", help="An owner (repeatable).")] = [],  # noqa: B006 - Typer reads it
    uploader: Annotated[list[str], typer.Option("--uploader", help="An uploader (repeatable).")] = [],  # noqa: B006 - as above
    add: Annotated[bool, typer.Option("--add", help="Add the users named to the current lists.")] = False,
    remove: Annotated[bool, typer.Option("--remove", help="Remove the users named from the current lists.")] = False,
    asset: Annotated[str | None, typer.Option("--asset", help="Uploaders given may upload to this asset only.")] = None,
    version: Annotated[str | None, typer.Option("--version", help="...and this version only.")] = None,
    until: Annotated[str | None, typer.Option("--until", help="...until this time (e.g. 2030-01-01T00:00:00Z).")
                     ] = None,
    trusted: Annotated[bool, typer.Option("--trusted", help="...without probation.")] = False,
    url: UrlOpt = None,
    token: TokenOpt = None,
) -> None:
    """Change a project's owners and uploaders (owners, admins).

    Without --add or --remove, each list you name (--owner, --uploader) replaces the stored one and
    the other stays as it is."""
    from selenite.commands import owner as cmd

    if add and remove:
        raise typer.BadParameter("--add and --remove cannot be combined")
    scope: dict[str, str | bool] = {k: v for k, v in (("asset", asset), ("version", version), ("until", until))
                                    if v is not None}
    if trusted:
        scope["trusted"] = True
    raise typer.Exit(cmd.set_permissions(
        config.load(url, token), project, owners=owner, uploaders=uploader,
        mode="add" if add else "remove" if remove else "replace", scope=scope))


@token_app.command("create")
def token_create(
    user: Annotated[str, typer.Argument(help="The user name the token identifies.")],
    label: Annotated[str | None, typer.Option(
        "--label", help="What the token is for (e.g. laptop, ci): listed, and `token revoke LABEL` revokes it.")
    ] = None,
    root: RootOpt = None,
    storage: StorageOpt = None,
    s3_endpoint: S3EndpointOpt = None,
    s3_region: S3RegionOpt = None,
    s3_checksums: S3ChecksumsOpt = None,
    s3_addressing: S3AddressingOpt = None,
) -> None:
    """Print a new bearer token for USER (stored hashed; works at once on running servers)."""
    from selenite.commands import token as cmd

    raise typer.Exit(cmd.create(user, root=root, storage=storage, label=label,
                               s3=s3_settings(s3_endpoint, s3_region, s3_checksums, s3_addressing)))


@token_app.command("list")
def token_list(
    user: Annotated[str | None, typer.Argument(help="Only this user's tokens.")] = None,
    as_json: JsonOpt = False,
    root: RootOpt = None,
    storage: StorageOpt = None,
    s3_endpoint: S3EndpointOpt = None,
    s3_region: S3RegionOpt = None,
    s3_checksums: S3ChecksumsOpt = None,
    s3_addressing: S3AddressingOpt = None,
) -> None:
    """List tokens: id, creation time, user, label (the tokens themselves are never stored)."""
    from selenite.commands import token as cmd

    raise typer.Exit(cmd.show(user, root=root, storage=storage, as_json=as_json,
                               s3=s3_settings(s3_endpoint, s3_region, s3_checksums, s3_addressing)))


@token_app.command("revoke")
def token_revoke(
    target: Annotated[
        str, typer.Argument(metavar="ID|LABEL|USER",
                            help="A token id or label from `token list`, or a user (all their tokens).")
    ],
    root: RootOpt = None,
    storage: StorageOpt = None,
    s3_endpoint: S3EndpointOpt = None,
    s3_region: S3RegionOpt = None,
    s3_checksums: S3ChecksumsOpt = None,
    s3_addressing: S3AddressingOpt = None,
) -> None:
    """Revoke a token, or every token of a user; running servers refuse it at once (401)."""
    from selenite.commands import token as cmd

    raise typer.Exit(cmd.revoke(target, root=root, storage=storage,
                               s3=s3_settings(s3_endpoint, s3_region, s3_checksums, s3_addressing)))


def register(app: typer.Typer) -> None:
    """Add these verbs to the ``selenite`` app."""
    for verb in (approve, reject, remove, whoami):
        app.command()(verb)
    app.add_typer(permissions_app, name="permissions")
    app.add_typer(token_app, name="token")
