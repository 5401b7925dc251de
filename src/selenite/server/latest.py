"""An asset's ``..latest``: the newest finished, non-probational version (gypsum-api.md §7.4)."""

from __future__ import annotations

from typing import Any

from selenite.server.jsonfiles import read_json, write_json
from selenite.server.keyspace import latest_key, summary_key
from selenite.server.storage.base import Storage
from selenite.server.timestamps import parse_time


def recompute_latest(storage: Storage, project: str, asset: str) -> str | None:
    """§7.4, minus quirk #4: the newest *finished*, non-probational version; ..latest follows."""
    prefix = f"{project}/{asset}/"
    best: tuple[float, str] | None = None
    for entry in storage.list_dir(prefix):
        name = entry[len(prefix):]
        if not name.endswith("/") or name.startswith(".."):
            continue
        version = name[:-1]
        summary = read_json(storage, summary_key(project, asset, version), must=False)
        if not isinstance(summary, dict) or summary.get("on_probation"):
            continue
        finished = parse_time(summary.get("upload_finish"))
        if finished is None:  # unfinished (or garbage): never the latest
            continue
        if best is None or finished > best[0]:
            best = (finished, version)
    if best is None:
        storage.delete(latest_key(project, asset))
        return None
    write_json(storage, latest_key(project, asset), {"version": best[1]})
    return best[1]


def is_newer_than_latest(storage: Storage, project: str, asset: str, summary: dict[str, Any]) -> bool:
    """Whether a version with this summary finished after the asset's current latest (or there is
    none): an approved version becomes the latest only then."""
    latest = read_json(storage, latest_key(project, asset), must=False)
    if not (isinstance(latest, dict) and isinstance(latest.get("version"), str)):
        return True
    current = read_json(storage, summary_key(project, asset, latest["version"]), must=False)
    mine = parse_time(summary.get("upload_finish"))
    theirs = parse_time(current.get("upload_finish")) if isinstance(current, dict) else None
    return mine is not None and (theirs is None or mine > theirs)
