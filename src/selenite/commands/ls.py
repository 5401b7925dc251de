"""`selenite ls [PROJECT[/ASSET[@VERSION]]]`: projects, assets, versions (latest marked, probation
shown) or a version's files with sizes. A table on a terminal, plain lines in pipes, ``--json``.
The registry: --url or $SELENITE_URL (ls is about a registry, not a tree), else the tree's, else
the last login's (``workspace.registry_endpoint``)."""

from __future__ import annotations

import json
import sys
from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

from selenite import lookup, output, registry
from selenite.config import Settings
from selenite.errors import FatalError, NotFound
from selenite.workspace import registry_endpoint


def _parse(target: str | None) -> tuple[str | None, str | None, str | None]:
    if not target:
        return None, None, None
    spec, at, version = target.partition("@")
    parts = [p for p in spec.split("/") if p]
    if len(parts) == 3 and not at:
        return parts[0], parts[1], parts[2]
    if len(parts) > 2 or (at and (len(parts) != 2 or not version)):
        raise FatalError(f"{target!r}: expected PROJECT, PROJECT/ASSET or PROJECT/ASSET@VERSION")
    return parts[0], parts[1] if len(parts) > 1 else None, version or None


def ls(settings: Settings, target: str | None, *, as_json: bool = False) -> int:
    project, asset, version = _parse(target)
    with registry.session_for(registry_endpoint(settings).url) as client:
        if project is None:
            rows = [{"project": p} for p in client.list_projects()]
            cols = ["project"]
        elif asset is None:
            _exists(client, project)
            rows = [{"asset": a} for a in client.list_assets(project)]
            cols = ["asset"]
        elif version is None:
            rows = _versions(client, project, asset)
            cols = ["version", "latest", "probation", "finished"]
        else:
            rows = _files(client, project, asset, version)
            cols = ["path", "size", "md5sum", "link"]
    if as_json:
        output.write(json.dumps(rows, indent=2))
    elif sys.stdout.isatty():
        _table(rows, cols)
    else:
        for r in rows:
            output.write("\t".join(_cell(c, r.get(c)) for c in cols))
    return 0


def _exists(client: registry.RegistryClient, project: str) -> None:
    if project not in client.list_projects():
        raise FatalError(f"the registry at {client.url} has no project {project!r}")


def _versions(client: registry.RegistryClient, project: str, asset: str) -> list[dict[str, Any]]:
    versions = client.list_versions(project, asset)
    if not versions:
        _exists(client, project)
        raise FatalError(f"project {project!r} has no asset {asset!r}")
    latest = client.latest(project, asset)
    rows = []
    for v in versions:
        try:
            s = client.summary(project, asset, v)
        except NotFound:
            s = {}
        rows.append({
            "version": v, "latest": v == latest, "probation": bool(s.get("on_probation")),
            "finished": s.get("upload_finish"), "user": s.get("upload_user_id"),
        })
    rows.sort(key=lambda r: (r["finished"] or "~", r["version"]))
    return rows


def _files(client: registry.RegistryClient, project: str, asset: str, version: str) -> list[dict[str, Any]]:
    try:
        manifest = client.manifest(project, asset, version)
    except NotFound:
        raise lookup.explain_missing(client, project, asset, version) from None
    rows = []
    for path in sorted(manifest):
        e = manifest[path] if isinstance(manifest[path], dict) else {}
        link = e.get("link") if isinstance(e.get("link"), dict) else None
        rows.append({
            "path": path, "size": e.get("size"), "md5sum": e.get("md5sum"),
            "link": f"{link['project']}/{link['asset']}/{link['version']}/{link['path']}" if link else None,
        })
    return rows


def _cell(col: str, value: Any) -> str:
    if col == "size" and isinstance(value, int):
        return str(value)
    if isinstance(value, bool):
        return "yes" if value else ""
    return "" if value is None else output.printable(str(value))  # names are the registry's: escaped


def _table(rows: list[dict[str, Any]], cols: list[str]) -> None:
    t = Table(box=None, header_style="bold")
    for c in cols:
        t.add_column(c, justify="right" if c == "size" else "left")
    for r in rows:
        cells = []
        for c in cols:
            v = r.get(c)
            if c == "size" and isinstance(v, int):
                cells.append(output.human_bytes(v))
            elif c == "latest":
                cells.append("latest" if v else "")
            elif c == "probation":
                cells.append("probation" if v else "")
            else:
                cells.append(_cell(c, v))
        t.add_row(*(Text(c) for c in cells))  # Text: a name like "[red]x" is not rich markup
    Console().print(t)
