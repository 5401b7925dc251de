"""An upload start's ``files`` (gypsum-api.md §3): checked, dedup entries turned into links to the
latest version where the content matches, and links resolved to what they point at."""

from __future__ import annotations

import re
from typing import Any

from selenite.server.context import Context
from selenite.server.errors import BadStorageKey, HttpError
from selenite.server.jsonfiles import read_json
from selenite.server.keyspace import latest_key, manifest_key, summary_key
from selenite.server.names import check_name, collision_problem, file_path_problem

MD5 = re.compile(r"^[0-9a-fA-F]{32}$")


def validate_files(files: object) -> list[dict[str, Any]]:
    """§3.1, in the worker's order; every refusal a 400."""
    if not isinstance(files, list):
        raise HttpError(400, "expected the 'files' property to be an array")
    seen: set[str] = set()
    for f in files:
        _check_entry(f, seen)
    problem = collision_problem(list(seen))
    if problem:
        raise HttpError(400, problem)
    return files


def _check_entry(f: object, seen: set[str]) -> None:
    """One entry of ``files``, in the worker's order; its path joins ``seen`` (the paths before it)."""
    if not isinstance(f, dict):
        raise HttpError(400, "'files' should be an array of objects")
    problem = file_path_problem(f.get("path"))
    if problem:
        raise HttpError(400, problem)
    path = f["path"]
    if path in seen:
        raise HttpError(400, f"duplicated value '{path}' in 'files.path'")
    seen.add(path)
    kind = f.get("type")
    if not isinstance(kind, str):
        raise HttpError(400, "'files.type' should be a string")
    if kind in ("simple", "dedup"):
        _check_content(f)
    elif kind == "link":
        link = f.get("link")
        if not isinstance(link, dict):
            raise HttpError(400, "'files.link' should be an object")
        for k in ("project", "asset", "version", "path"):
            if not isinstance(link.get(k), str):
                raise HttpError(400, f"'files.link.{k}' should be a string")
    else:
        raise HttpError(400, "invalid 'files.type'")


def _check_content(f: dict[str, Any]) -> None:
    """A simple or dedup entry's md5sum and size (a whole float size becomes an int)."""
    if not isinstance(f.get("md5sum"), str):
        raise HttpError(400, "'files.md5sum' should be a string")
    size = f.get("size")
    if isinstance(size, float) and size.is_integer():
        size = f["size"] = int(size)
    if not isinstance(size, int) or isinstance(size, bool) or size < 0:
        raise HttpError(400, "'files.size' should be a non-negative integer")
    # Beyond the worker: the md5 must be one, or no upload could ever match it.
    if not MD5.match(f["md5sum"]):
        raise HttpError(400, "'files.md5sum' should be a 32-character hexadecimal MD5")


def dedup(
    ctx: Context, project: str, asset: str, entries: list[dict[str, Any]]
) -> tuple[list[Any], list[Any]]:
    """§3.3: dedup entries matching the latest version's md5+size become links; the rest simple."""
    latest = read_json(ctx.storage, latest_key(project, asset), must=False)
    if not isinstance(latest, dict) or not isinstance(latest.get("version"), str):
        return entries, []
    version = latest["version"]
    manifest = read_json(ctx.storage, manifest_key(project, asset, version), must=False)
    if not isinstance(manifest, dict):
        return entries, []
    by_content = {f"{e.get('md5sum')}_{e.get('size')}": path for path, e in manifest.items() if isinstance(e, dict)}
    simple, links = [], []
    for f in entries:
        hit = by_content.get(f"{f['md5sum']}_{f['size']}")
        if hit is None:
            simple.append(f)
        else:
            to = {"project": project, "asset": asset, "version": version, "path": hit}
            links.append({"path": f["path"], "link": to})
    return simple, links


def resolve_links(ctx: Context, project: str, asset: str, version: str, links: list[Any]) -> list[dict[str, Any]]:
    """§3.2: check each target; copy its size/md5; add ``ancestor`` when the target is a link."""
    manifests: dict[str, dict[str, Any]] = {}
    out = []
    for f in links:
        to = dict(f["link"])
        tp, ta, tv, tpath = to["project"], to["asset"], to["version"], to["path"]
        target = f"{tp}/{ta}/{tv}"
        where = f"from '{f['path']}' to '{target}/{tpath}'"
        if (tp, ta, tv) == (project, asset, version):
            raise HttpError(400, f"detected circular link {where}")
        if target not in manifests:
            try:
                for kind, name in (("project", tp), ("asset", ta), ("version", tv)):
                    check_name(kind, name)
                summary = read_json(ctx.storage, summary_key(tp, ta, tv), must=False)
            except (HttpError, BadStorageKey):
                summary = None  # a name that cannot exist names no version
            if not isinstance(summary, dict):
                raise HttpError(400, f"cannot find version summary for link {where}")
            if summary.get("on_probation"):
                raise HttpError(400, f"cannot refer to probational version for link {where}")
            if "upload_finish" not in summary:
                raise HttpError(400, f"cannot refer to incomplete upload for link {where}")
            manifest = read_json(ctx.storage, manifest_key(tp, ta, tv), must=False)
            if not isinstance(manifest, dict):
                raise HttpError(400, f"no manifest available for link target inside '{target}'")
            manifests[target] = manifest
        details = manifests[target].get(tpath) if isinstance(tpath, str) else None
        if not isinstance(details, dict):
            raise HttpError(400, f"failed to link {where}")
        if isinstance(details.get("link"), dict):
            parent = details["link"]
            to["ancestor"] = parent["ancestor"] if isinstance(parent.get("ancestor"), dict) else parent
        out.append({"path": f["path"], "size": details.get("size"), "md5sum": details.get("md5sum"), "link": to})
    return out
