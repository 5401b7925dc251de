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
    lists = f"the version {where} lists"
    out: dict[str, FileSpec] = {}
    checked: set[tuple[str, str, str]] = set()  # link targets' names found usable (most links share them)
    for listed, entry in manifest.items():
        path = safepath.check(listed, lists)
        if not isinstance(entry, dict):
            raise FatalError(f"manifest of {where}: entry {path!r} is not an object")
        try:
            # key_for checks both values at run time (untrusted JSON); typed str/int for its other callers.
            key = key_for(entry.get("md5sum"), entry.get("size"), path)  # type: ignore[arg-type]
        except FatalError as e:
            raise FatalError(f"manifest of {where}: {path!r}: {e}") from None
        out[path] = FileSpec(key, _source(entry.get("link"), where, path, checked))
    safepath.check_listing(out, f"the version {where}")
    return out


def _source(link: object, where: str, path: str, checked: set[tuple[str, str, str]]) -> str:
    """The bucket key holding a file's bytes: its link's ancestor, else its link's target, else itself.
    ``checked``: target names already found usable in this manifest (each is checked once)."""
    if link is None:
        return f"{where}/{path}"
    if not isinstance(link, dict):
        raise FatalError(f"manifest of {where}: the link of {path!r} is not an object")
    ancestor = link.get("ancestor")
    target = ancestor if isinstance(ancestor, dict) else link
    tp, ta, tv = target.get("project"), target.get("asset"), target.get("version")
    if not (type(tp) is str and type(ta) is str and type(tv) is str and (tp, ta, tv) in checked):
        tp, ta, tv = _name(tp, "a project"), _name(ta, "an asset"), _name(tv, "a version")
        checked.add((tp, ta, tv))
    tpath = target.get("path")
    if not isinstance(tpath, str) or safepath.problem(tpath) is not None:
        # The message is built only for a refusal: quoting the path of every link was a third of the time.
        tpath = safepath.check(tpath, f"the version {where} links {safepath.shown(path)} to")
    return f"{tp}/{ta}/{tv}/{tpath}"
