"""A version's manifest, as the registry sends it, turned into a checked listing.

Every path and name in a manifest comes from the registry: untrusted. ``parse_manifest`` checks
it all before anything is written (``safepath``), and says where each file's bytes live.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import NamedTuple

from selenite import safepath
from selenite.errors import FatalError, UnsafePath
from selenite.keys import Key, key_for


class FileSpec(NamedTuple):
    """One file of a version: its key, and the bucket key that holds its real bytes (a link's
    ancestor, else its target, else the file itself)."""

    key: Key
    source: str


def _name(value: object, what: str) -> str:
    if not isinstance(value, str) or not value or value in (".", "..") or any(c in value for c in "/\\\x00"):
        raise UnsafePath(f"manifest names {what} {safepath.shown(value)}, which is not a usable name")
    return value


def parse_manifest(manifest: Mapping[str, object], project: str, asset: str, version: str) -> dict[str, FileSpec]:
    """Validate a version's manifest completely (before anything is written) and turn it into
    {path: FileSpec}. Absolute paths, '..', backslashes, bad md5s or sizes raise ``FatalError``."""
    where = f"{project}/{asset}/{version}"
    out: dict[str, FileSpec] = {}
    for listed, entry in manifest.items():
        path = safepath.check(listed, f"the version {where} lists")
        if not isinstance(entry, dict):
            raise FatalError(f"manifest of {where}: entry {path!r} is not an object")
        try:
            # key_for checks both values at run time (untrusted JSON); typed str/int for its other callers.
            key = key_for(entry.get("md5sum"), entry.get("size"), path)  # type: ignore[arg-type]
        except FatalError as e:
            raise FatalError(f"manifest of {where}: {path!r}: {e}") from None
        out[path] = FileSpec(key, _source(entry.get("link"), where, path))
    safepath.check_listing(out, f"the version {where}")
    return out


def _source(link: object, where: str, path: str) -> str:
    """The bucket key holding a file's bytes: its link's ancestor, else its link's target, else itself."""
    if link is None:
        return f"{where}/{path}"
    if not isinstance(link, dict):
        raise FatalError(f"manifest of {where}: the link of {path!r} is not an object")
    ancestor = link.get("ancestor")
    target = ancestor if isinstance(ancestor, dict) else link
    tp = _name(target.get("project"), "a project")
    ta = _name(target.get("asset"), "an asset")
    tv = _name(target.get("version"), "a version")
    tpath = safepath.check(target.get("path"), f"the version {where} links {safepath.shown(path)} to")
    return f"{tp}/{ta}/{tv}/{tpath}"
