"""Reading a registry without a working tree: one file (``download``), a whole version as a
read-only folder (``download_version``), a version's files (``manifest``), an asset's versions
(``versions``) and what changed between two versions (``diff``).

Everything downloaded goes to the shared cache, checked (md5 and size) while it streams, and is
shared with every working tree on the machine.

``download_version`` builds a *snapshot*: ``<cache>/snapshots/<h[0:2]>/<h>/``, where ``h`` is the
version's tree hash (the sha256 of its listing, as in ``<cache>/trees/``), a folder of relative
symlinks into ``<cache>/objects/``. It is made in ``<cache>/tmp/`` and renamed into place, so it is
whole or absent; a second call (any version with the same files) reuses it, fetching only objects
the cache lost since (``selenite gc`` does not count snapshots as users of their objects). Its
folders are read-only (0555): remove one with ``chmod -R u+w`` first.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from contextlib import AbstractContextManager
from pathlib import Path

from selenite import output, registry
from selenite.api.clone import download_objects, parse_source
from selenite.api.diff import compare
from selenite.api.log import Entry, version_entries
from selenite.api.registry import Registry
from selenite.api.tree import Progress, settings_for
from selenite.cache import Cache, tree_hash
from selenite.changes import Changes
from selenite.config import Settings
from selenite.errors import FatalError, NotFound
from selenite.keys import Key
from selenite.lookup import resolve_version
from selenite.tree.origin import Origin


def _client(settings: Settings) -> AbstractContextManager[registry.RegistryClient]:
    """A client for the registry a clone would use (``Registry``'s; else ``$SELENITE_URL``, else the last login's)."""
    return registry.session_for(*settings.endpoint().pair())


def download(ref: str, path: str, *, registry: Registry | None = None, progress: Progress = None) -> Path:
    """One file of a version, ``ref`` (``PROJECT/ASSET[@VERSION]``, latest when not named), at
    ``path`` in it: fetched into the shared cache unless it is there already (md5 and size
    checked) and returned as the cache object's path. The object is read-only (0444) and shared
    by every tree: copy it to change it."""
    settings = settings_for(registry)
    project, asset, version = parse_source(ref)
    cache = Cache(settings.cache_dir)
    with output.showing(progress), _client(settings) as client:
        version, listing, specs = resolve_version(client, cache, project, asset, version)
        path = path.strip("/")  # as the version lists it
        key = listing.get(path)
        if key is None:
            raise NotFound(f"{project}/{asset}@{version} has no file {output.printable(path)!r}", 404)
        o = Origin(client.url, project, asset, version)
        download_objects(client, cache, o, {path: key}, specs and {path: specs[path]}, 1)
    return cache.object_path(key)


def download_version(ref: str, *, registry: Registry | None = None, jobs: int = 8, progress: Progress = None) -> Path:
    """Every file of the version ``ref`` (``PROJECT/ASSET[@VERSION]``) in the shared cache, and a
    read-only folder of links to them, laid out as the version is: the snapshot described in this
    module's documentation (``<cache>/snapshots/...``, reused by later calls). Returns the folder."""
    settings = settings_for(registry)
    project, asset, version = parse_source(ref)
    cache = Cache(settings.cache_dir)
    with output.showing(progress), _client(settings) as client:
        version, listing, specs = resolve_version(client, cache, project, asset, version)
        download_objects(client, cache, Origin(client.url, project, asset, version), listing, specs, jobs)
    h = tree_hash(listing)
    final = cache.root / "snapshots" / h[:2] / h
    if not final.is_dir():
        _build_snapshot(cache, listing, final)
    return final


def _build_snapshot(cache: Cache, listing: dict[str, Key], final: Path) -> None:
    """Links for ``listing`` made in the cache's tmp/ then renamed to ``final`` (whole or absent);
    a snapshot another process finished meanwhile is kept and ours dropped."""
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=cache.tmp, prefix="snapshot-"))
    try:
        for path, key in listing.items():
            link = tmp / path
            link.parent.mkdir(parents=True, exist_ok=True)
            # Relative to where the link will live (final), not where it is made.
            os.symlink(os.path.relpath(cache.object_path(key), (final / path).parent), link)
        try:
            os.rename(tmp, final)
        except OSError:
            if not final.is_dir():
                raise
            return
    finally:
        with contextlib.suppress(FileNotFoundError):
            shutil.rmtree(tmp)
    for dirpath, _dirs, _files in os.walk(final):
        os.chmod(dirpath, 0o555)


def manifest(ref: str, *, registry: Registry | None = None) -> dict[str, Key]:
    """The files of the version ``ref`` (``PROJECT/ASSET[@VERSION]``): ``{path: Key}`` (``Key.md5``,
    ``Key.size``), checked as a clone checks them; from the cache when it holds the version."""
    settings = settings_for(registry)
    project, asset, version = parse_source(ref)
    with _client(settings) as client:
        return resolve_version(client, Cache(settings.cache_dir), project, asset, version)[1]


def versions(project: str, asset: str, *, registry: Registry | None = None) -> list[Entry]:
    """The asset's versions, newest first: name, uploader, times, probation, latest, files, bytes
    (what `selenite log --json` prints)."""
    settings = settings_for(registry)
    parse_source(f"{project}/{asset}")
    with _client(settings) as client:
        return version_entries(client, Cache(settings.cache_dir), project, asset)


def diff(a: str, b: str, *, registry: Registry | None = None) -> Changes:
    """What changed from version ``a`` to version ``b`` (each ``PROJECT/ASSET@VERSION``), from their
    manifests alone: added, deleted, modified and renamed paths with sizes, and totals."""
    if not ("@" in a and "@" in b):
        raise FatalError("diff names both versions in full: PROJECT/ASSET@VERSION")
    return compare(settings_for(registry), [a, b])[2]
