"""The command-line options several verbs share, as Typer annotations (``cli.py`` wires the verbs).

Kept beside the wiring rather than in it so that one option reads the same in every verb: a
registry (``--url``, ``--token``), the object cache, parallel transfers, and where a registry keeps
its bytes (``--root``, ``--storage`` and the S3 settings ``serve`` and ``token`` both take).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from selenite.server.storage.s3settings import S3Settings

UrlOpt = Annotated[
    str | None,
    typer.Option(
        "--url", help="Registry URL (default: the working tree's registry, $SELENITE_URL, or the last login's)."
    ),
]
TokenOpt = Annotated[
    str | None,
    typer.Option("--token", help="Bearer token (default: the one saved by `selenite login` for the URL; "
                 "$SELENITE_TOKEN only with --url or $SELENITE_URL)."),
]
CacheOpt = Annotated[
    Path | None,
    typer.Option("--cache", help="Shared object cache (default: $SELENITE_CACHE, or the user cache folder)."),
]
JsonOpt = Annotated[
    bool, typer.Option("--json", help="Machine-readable output: one JSON document on stdout (docs/user/json.md).")
]
# Pattern clones (docs/user/patterns.md): globs matched against the version's paths, not the disk.
IncludeOpt = Annotated[
    list[str] | None,
    typer.Option("--include", metavar="GLOB",
                 help="Fetch only the content of paths matching GLOB (repeatable; the tree still holds every path, "
                      "the rest as links without content). '*' stays within a folder, '**' crosses folders, a GLOB "
                      "without '/' matches file names at any depth. Recorded: a plain `get` and `pull` keep to it "
                      "(docs/user/patterns.md)."),
]
ExcludeOpt = Annotated[
    list[str] | None,
    typer.Option("--exclude", metavar="GLOB",
                 help="Do not fetch the content of paths matching GLOB (repeatable; wins over --include)."),
]
GET_PATHS_HELP = ("Files, folders or quoted glob patterns ('counts/*.tsv', matched against the tree's paths below "
                  "the current folder, not the disk). Default: the whole tree, or a pattern clone's selection.")
GetAllOpt = Annotated[bool, typer.Option("--all", help="The whole tree, beyond a pattern clone's selection.")]
JobsOpt = Annotated[int, typer.Option("-j", "--jobs", min=1, max=64, help="Parallel transfers.")]
StorageOpt = Annotated[
    str | None,
    typer.Option("--storage", help="s3://BUCKET[/PREFIX]: keep the registry in S3-compatible object storage."),
]
S3EndpointOpt = Annotated[
    str | None, typer.Option("--s3-endpoint", help="S3 endpoint URL (e.g. http://127.0.0.1:8333).")
]
S3RegionOpt = Annotated[str | None, typer.Option("--s3-region", help="S3 region (default from the AWS config).")]
S3ChecksumsOpt = Annotated[
    str | None,
    typer.Option("--s3-checksums", envvar="SELENITE_S3_CHECKSUMS", metavar="when_required|when_supported",
                 help="boto3's checksum mode (default when_required; when_supported adds CRC32 checksums that "
                      "several S3 clones reject)."),
]
S3AddressingOpt = Annotated[
    str | None,
    typer.Option("--s3-addressing", envvar="SELENITE_S3_ADDRESSING", metavar="path|virtual|auto",
                 help="S3 URL style (default: path with --s3-endpoint, else auto)."),
]
S3PublicEndpointOpt = Annotated[
    str | None,
    typer.Option("--s3-public-endpoint", envvar="SELENITE_S3_PUBLIC_ENDPOINT",
                 help="The S3 endpoint upload URLs point to, when clients reach the store at another address "
                      "than the server does (default: --s3-endpoint)."),
]
RootOpt = Annotated[
    Path | None, typer.Option("--root", help="Folder that holds the registry (the embedded default).")
]


def s3_settings(
    endpoint: str | None,
    region: str | None,
    checksums: str | None,
    addressing: str | None,
    public_endpoint: str | None = None,
) -> S3Settings:
    """The S3 options as the server's settings (imported here, only for the verbs that open storage)."""
    from selenite.server.storage.s3settings import S3Settings  # noqa: PLC0415 - the CLI must not load the server

    return S3Settings(endpoint, region, checksums, addressing, public_endpoint)
