"""Typer wiring only: options in, one command function called, its exit code out.

Command modules are imported inside each command so that ``selenite check`` (run by the
pre-commit hook on every commit) does not pay for importing the server or boto3.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from selenite import cliadmin, clihistory, config
from selenite.cliopts import (
    GET_PATHS_HELP,
    CacheOpt,
    ExcludeOpt,
    GetAllOpt,
    IncludeOpt,
    JobsOpt,
    JsonOpt,
    RootOpt,
    S3AddressingOpt,
    S3ChecksumsOpt,
    S3EndpointOpt,
    S3PublicEndpointOpt,
    S3RegionOpt,
    StorageOpt,
    TokenOpt,
    UrlOpt,
    s3_settings,
)
from selenite.error_handler import error_handler

app = typer.Typer(
    name="selenite",
    help="The Git workflow for versioned datasets in a gypsum-style registry.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    # Plain help and usage errors: rich's formatting costs every `--help` and every mistyped
    # command ~100 ms of imports (issue 15); an error stays one line ("Error: ...").
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
)
hooks_app = typer.Typer(help="Install or remove selenite's Git hooks in this repository.", no_args_is_help=True,
                        rich_markup_mode=None)
hook_app = typer.Typer(help="Entry points run by installed Git hooks.", no_args_is_help=True, hidden=True,
                       rich_markup_mode=None)
app.add_typer(hooks_app, name="hooks")


def _print_version(value: bool) -> None:
    if value:
        from selenite import __version__

        typer.echo(f"selenite {__version__}")
        raise typer.Exit()


@app.callback()
def _top(
    version: Annotated[bool, typer.Option(
        "--version", callback=_print_version, is_eager=True, help="Print selenite's version and exit.")] = False,
) -> None:
    """The Git workflow for versioned datasets in a gypsum-style registry."""
app.add_typer(hook_app, name="hook")


# --- the registry -----------------------------------------------------------------------------


@app.command()
def serve(
    root: RootOpt = None,
    storage: StorageOpt = None,
    s3_endpoint: S3EndpointOpt = None,
    s3_region: S3RegionOpt = None,
    s3_checksums: S3ChecksumsOpt = None,
    s3_addressing: S3AddressingOpt = None,
    s3_public_endpoint: S3PublicEndpointOpt = None,
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = config.DEFAULT_PORT,
    admin: Annotated[
        list[str], typer.Option("--admin", help="A user who may administer the registry (repeatable).")
    ] = [],  # noqa: B006 - Typer reads the default and never mutates it
    lock_ttl: Annotated[
        float, typer.Option("--lock-ttl", help="Seconds after which an abandoned upload's project lock expires.")
    ] = 3600.0,
    max_json_bytes: Annotated[
        int,
        typer.Option("--max-json-bytes", min=1024, help="Largest JSON request body (an upload manifest); 413 beyond."),
    ] = 16 << 20,
    max_list_entries: Annotated[
        int, typer.Option("--max-list-entries", min=1, help="Most keys one recursive /list answers; 400 beyond.")
    ] = 100_000,
    public_url: Annotated[
        str | None,
        typer.Option("--public-url", help="The URL clients reach this server at (e.g. a TLS proxy's https://...)."),
    ] = None,
    header_timeout: Annotated[
        float, typer.Option("--header-timeout", help="Seconds a client has to send a whole request head.")
    ] = 10.0,
    idle_timeout: Annotated[
        float, typer.Option("--idle-timeout", help="Seconds without a byte of a request body before closing.")
    ] = 60.0,
    keep_alive: Annotated[
        float, typer.Option("--keep-alive", help="Seconds an idle connection is kept between requests.")
    ] = 5.0,
    max_connections: Annotated[
        int | None,
        typer.Option("--max-connections", min=1, help="Open connections beyond which new ones get 503 "
                     "(default: 1000, or less under a low open-file limit)."),
    ] = None,
) -> None:
    """Run a gypsum-compatible registry on a folder (--root) or on S3 (--storage)."""
    from selenite.commands import serve as cmd

    s3 = s3_settings(s3_endpoint, s3_region, s3_checksums, s3_addressing, s3_public_endpoint)
    raise typer.Exit(cmd.serve(
        root=root, storage=storage, s3=s3, host=host, port=port, admins=admin + config.admins_from_env(),
        lock_ttl=lock_ttl, max_json_bytes=max_json_bytes, max_list_entries=max_list_entries, public_url=public_url,
        header_timeout=header_timeout, idle_timeout=idle_timeout, keep_alive=keep_alive,
        max_connections=max_connections,
    ))


@app.command()
def demo(
    directory: Annotated[Path | None, typer.Argument(help="Where to put the demo (default: ./selenite-demo).")] = None,
    port: Annotated[int, typer.Option(help="Port for the demo registry.")] = config.DEFAULT_PORT,
    keep_serving: Annotated[bool, typer.Option("--serve", help="Keep the registry running afterwards.")] = False,
) -> None:
    """Run the whole story: a registry on a folder, a demo project, clone, edit, commit, push."""
    from selenite.commands import demo as cmd

    raise typer.Exit(cmd.demo(directory or Path("selenite-demo"), port=port, keep_serving=keep_serving))


# --- talking to a registry --------------------------------------------------------------------


@app.command()
def login(
    url: Annotated[str, typer.Option("--url", help="Registry URL.")],
    token: Annotated[
        str,
        typer.Option("--token", prompt="Token", hide_input=True,
                     help="Bearer token for that registry (asked for, or read from stdin, when not given)."),
    ],
) -> None:
    """Check a token against a registry, save it (0600, in the user's config folder), and make that
    registry the default outside working trees."""
    from selenite.commands import login as cmd

    raise typer.Exit(cmd.login(url, token))


@app.command()
def ls(
    target: Annotated[str | None, typer.Argument(help="PROJECT, PROJECT/ASSET or PROJECT/ASSET@VERSION.")] = None,
    as_json: JsonOpt = False,
    url: UrlOpt = None,
) -> None:
    """List projects, assets, versions (latest marked) or a version's files."""
    from selenite.commands import ls as cmd

    raise typer.Exit(cmd.ls(config.load(url), target, as_json=as_json))


clihistory.register(app)


# --- working trees ----------------------------------------------------------------------------


@app.command()
def clone(
    source: Annotated[str, typer.Argument(help="PROJECT/ASSET[@VERSION] (latest version by default).")],
    directory: Annotated[Path | None, typer.Argument(help="New folder (default: ASSET).")] = None,
    no_download: Annotated[bool, typer.Option("--no-download", help="Make the links only; fetch with `get`.")] = False,
    jobs: JobsOpt = 8,
    link_mode: Annotated[
        str, typer.Option("--link-mode", help="symlink (default), hardlink, copy, or auto.")
    ] = "symlink",
    include: IncludeOpt = None,
    exclude: ExcludeOpt = None,
    url: UrlOpt = None,
    token: TokenOpt = None,
    cache: CacheOpt = None,
) -> None:
    """Make a Git working tree of a version: one link per file into the shared cache."""
    from selenite.commands import clone as cmd

    raise typer.Exit(
        cmd.clone(
            config.load(url, token, cache), source, directory, download=not no_download, jobs=jobs, link_mode=link_mode,
            include=include or [], exclude=exclude or [],
        )
    )


@app.command()
def get(
    paths: Annotated[list[Path] | None, typer.Argument(help=GET_PATHS_HELP)] = None,
    everything: GetAllOpt = False,
    jobs: JobsOpt = 8,
    url: UrlOpt = None,
    cache: CacheOpt = None,
) -> None:
    """Download the content that links of this tree point to and the cache lacks."""
    from selenite.commands import get as cmd

    raise typer.Exit(cmd.get(config.load(url, None, cache), paths or [], jobs=jobs, everything=everything))


@app.command()
def drop(
    paths: Annotated[list[Path] | None, typer.Argument(help="Files or folders (default: the whole tree).")] = None,
    url: UrlOpt = None,
    cache: CacheOpt = None,
) -> None:
    """Free local content that the registry still holds (links stay; `get` brings it back)."""
    from selenite.commands import drop as cmd

    raise typer.Exit(cmd.drop(config.load(url, None, cache), paths or []))


@app.command()
def status(
    as_json: JsonOpt = False,
    show_all: Annotated[bool, typer.Option("--all", help="Also list unchanged links.")] = False,
    exit_code: Annotated[bool, typer.Option(
        "--exit-code", help="Exit 1 when the tree differs from its version (not-fetched content does not count).")
    ] = False,
    cache: CacheOpt = None,
) -> None:
    """Per path: unchanged, modified, new, deleted, content missing, object corrupted."""
    from selenite.commands import status as cmd

    raise typer.Exit(cmd.status(config.load(None, None, cache), as_json=as_json, show_all=show_all,
                                exit_code=exit_code))


@app.command()
def unlock(
    paths: Annotated[list[Path], typer.Argument(help="Files or folders to make editable.")],
    url: UrlOpt = None,
    cache: CacheOpt = None,
) -> None:
    """Replace links by writable copies: the safe way to edit (the cache stays untouched)."""
    from selenite.commands import unlock as cmd

    raise typer.Exit(cmd.unlock(config.load(url, None, cache), paths))


@app.command()
def fsck(
    repair: Annotated[
        bool, typer.Option("--repair", help="Restore bad objects; keep edited bytes as real files.")
    ] = False,
    as_json: JsonOpt = False,
    url: UrlOpt = None,
    cache: CacheOpt = None,
) -> None:
    """Re-hash the objects this tree points to (and, with --repair, fix them without losing edits)."""
    from selenite.commands import fsck as cmd

    raise typer.Exit(cmd.fsck(config.load(url, None, cache), repair=repair, as_json=as_json))


@app.command()
def gc(
    max_size: Annotated[
        str | None,
        typer.Option("--max-size", help="Also evict unreferenced objects until the cache fits (e.g. 10G, 0)."),
    ] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Say what would be removed; remove nothing.")] = False,
    force: Annotated[bool, typer.Option(
        "--force", help="Also remove objects the registry no longer holds (or cannot be asked about).")] = False,
    as_json: JsonOpt = False,
    cache: CacheOpt = None,
) -> None:
    """Remove cache objects that no registered working tree needs, oldest first."""
    from selenite.commands import gc as cmd

    raise typer.Exit(cmd.gc(config.load(None, None, cache), max_size=max_size, dry_run=dry_run, force=force,
                            as_json=as_json))


@app.command()
def push(
    version: Annotated[
        str | None, typer.Option("--version", help="Name of the new version (default: next vN).")
    ] = None,
    probation: Annotated[bool, typer.Option("--probation", help="Upload on probation (owners approve later).")] = False,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Print the plan; change nothing.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="With --dry-run: the plan as JSON (docs/user/json.md).")
                       ] = False,
    jobs: JobsOpt = 8,
    message: Annotated[str | None, typer.Option("--message", "-m", help="Commit message for the new version.")] = None,
    follow_external: Annotated[bool, typer.Option(
        "--follow-external", help="Publish the targets of symlinks that leave the tree (refused by default).")] = False,
    force: Annotated[bool, typer.Option(
        "--force", help="Publish even when the registry's latest version is newer than the one this tree is "
        "based on (its changes are then not in the new version; `selenite pull` merges them instead).")] = False,
    url: UrlOpt = None,
    token: TokenOpt = None,
    cache: CacheOpt = None,
) -> None:
    """Publish the tree as a new version: unchanged links become links, only new bytes move."""
    from selenite.commands import push as cmd

    raise typer.Exit(
        cmd.push(
            config.load(url, token, cache), version=version, probation=probation, dry_run=dry_run, jobs=jobs,
            message=message,
            follow_external=follow_external, force=force, as_json=as_json,
        )
    )


# --- hooks ------------------------------------------------------------------------------------


@app.command()
def check(
    fix: Annotated[
        bool, typer.Option("--fix", help="Rewrite links moved to another folder depth (and stage them).")
    ] = False,
    cache: CacheOpt = None,
) -> None:
    """Fail if an object behind a link was edited, or a link leaves the cache (what the hook runs)."""
    from selenite.commands import check as cmd

    raise typer.Exit(cmd.check(config.load(None, None, cache), fix=fix))


@hook_app.command("pre-commit")
def hook_pre_commit(cache: CacheOpt = None) -> None:
    """The pre-commit hook: `selenite check` plus the optional large-file guard."""
    from selenite.commands import check as cmd

    raise typer.Exit(cmd.pre_commit(config.load(None, None, cache)))


@hooks_app.command("install")
def hooks_install() -> None:
    """Install the pre-commit hook (an existing hook is kept and run first)."""
    from selenite.commands import hooks as cmd

    raise typer.Exit(cmd.install(Path.cwd()))


@hooks_app.command("uninstall")
def hooks_uninstall() -> None:
    """Remove selenite's hook and restore the one it chained, if any."""
    from selenite.commands import hooks as cmd

    raise typer.Exit(cmd.uninstall(Path.cwd()))


cliadmin.register(app)


def main() -> None:
    with error_handler():
        # The name completion scripts and usage lines use, also under `python -m selenite`.
        app(prog_name="selenite")
