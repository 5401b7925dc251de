"""What the browser shows, read through the server's storage: projects, assets, versions (from
their ``..summary``) and each version's files (from its ``..manifest``).

Everything read here is checked before it is shown: a summary or manifest entry of the wrong shape
is left out (and counted), never trusted. Manifests are immutable once a version exists, so each
one is parsed once into a :class:`VersionIndex` (files sorted by path, grouped by folder) and kept
in a small cache keyed by the manifest's ETag, bounded by the number of files held.
"""

from __future__ import annotations

import dataclasses
import json
import re
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from selenite.server.errors import HttpError
from selenite.server.keyspace import latest_key, manifest_key, permissions_key, summary_key
from selenite.server.storage.base import Storage
from selenite.server.timestamps import parse_time

CACHED_FILES = 200_000  # files held by the cache of parsed manifests, all versions together (about 110 MB)
CACHED_TOTALS = 10_000  # versions whose file count and size are remembered after their index is dropped


@dataclass(frozen=True)
class Link:
    """Where a link entry's bytes live: the version and path of the original file."""

    project: str
    asset: str
    version: str
    path: str

    @property
    def key(self) -> str:
        return f"{self.project}/{self.asset}/{self.version}/{self.path}"


class FileEntry(NamedTuple):  # a tuple, not a dataclass: 100,000 of them are made in a second
    path: str
    size: int
    md5: str
    link: Link | None  # the entry's own link (what it points at)
    origin: Link | None  # where its bytes are stored: the link's ancestor, else the link


@dataclass(frozen=True)
class Version:
    name: str
    uploader: str
    finished: float  # seconds since the epoch (a version is listed once its upload finished)
    probation: bool
    latest: bool


@dataclass
class Folder:
    """A folder of a version: its subfolders and files (indices into the version's file list), and
    the count and size of every file below it."""

    folders: list[str] = field(default_factory=list)
    files: list[int] = field(default_factory=list)
    count: int = 0
    size: int = 0


@dataclass
class VersionIndex:
    files: list[FileEntry]
    folders: dict[str, Folder]  # "" is the root; others are "a/b" without a trailing '/'
    skipped: int  # manifest entries of the wrong shape, not shown
    paths: list[str] = field(default_factory=list)  # the files' paths, sorted (bisect finds one)

    def listing(self) -> dict[str, tuple[str, int]]:
        """``{path: (md5, size)}``, what a diff compares."""
        return {f.path: (f.md5, f.size) for f in self.files}


def _subdirs(storage: Storage, prefix: str) -> list[str]:
    """The folder names directly under ``prefix`` that are not the protocol's own (``..x``)."""
    names = (entry[len(prefix):-1] for entry in storage.list_dir(prefix) if entry.endswith("/"))
    return [n for n in names if n and not n.startswith("..")]


def projects(storage: Storage) -> list[str]:
    return _subdirs(storage, "")


def assets(storage: Storage, project: str) -> list[str]:
    if storage.head(permissions_key(project)) is None:
        raise HttpError(404, f"no project '{project}'")
    return _subdirs(storage, f"{project}/")


def _read_json(storage: Storage, key: str) -> Any:
    data = storage.get_bytes(key)
    if data is None:
        return None
    try:
        return json.loads(data)
    except ValueError:
        return None


def _version(name: str, summary: object, latest_name: object) -> Version | None:
    """A version from its ``..summary``; None unless finished (an upload in progress is not a
    version yet) and readable."""
    if not isinstance(summary, dict):
        return None
    finished = parse_time(summary.get("upload_finish"))
    if finished is None:
        return None
    uploader = summary.get("upload_user_id")
    return Version(
        name=name,
        uploader=uploader if isinstance(uploader, str) else "",
        finished=finished,
        probation=summary.get("on_probation") is True,
        latest=name == latest_name,
    )


def _latest_name(storage: Storage, project: str, asset: str) -> object:
    latest = _read_json(storage, latest_key(project, asset))
    return latest.get("version") if isinstance(latest, dict) else None


def versions(storage: Storage, project: str, asset: str) -> list[Version]:
    """The asset's finished versions, newest first."""
    names = _subdirs(storage, f"{project}/{asset}/")
    if not names:
        raise HttpError(404, f"no asset '{project}/{asset}'")
    latest_name = _latest_name(storage, project, asset)
    found = [v for name in names
             if (v := _version(name, _read_json(storage, summary_key(project, asset, name)), latest_name))]
    found.sort(key=lambda v: (v.finished, v.name), reverse=True)
    return found


def version(storage: Storage, project: str, asset: str, name: str) -> Version:
    """One finished version (404 otherwise)."""
    found = _version(name, _read_json(storage, summary_key(project, asset, name)), None)
    if found is None:
        raise HttpError(404, f"no version '{project}/{asset}/{name}'")
    latest = _latest_name(storage, project, asset) == name
    return dataclasses.replace(found, latest=latest)


# What a path must be to be shown and grouped into folders: non-empty '/'-separated components, none
# empty, '.' or '..', no control character. Uploads were held to the protocol's full rules
# (server/names.file_path_problem); this is what the browser itself relies on, checked again because
# the stored manifest is read back from storage, and cheap enough for 100,000 paths a second.
_UNSHOWABLE = re.compile(r"(?:^|/)\.{0,2}(?:/|$)|[\x00-\x1f\x7f-\x9f]")


def _showable(path: object) -> bool:
    return isinstance(path, str) and _UNSHOWABLE.search(path) is None


def _link(value: object) -> Link | None:
    if not isinstance(value, dict):
        return None
    parts = [value.get(k) for k in ("project", "asset", "version", "path")]
    if not all(isinstance(p, str) and p and "/" not in p for p in parts[:3]):
        return None
    path = parts[3]
    if not _showable(path):
        return None
    return Link(*(str(p) for p in parts))


def _entry(path: object, spec: object) -> FileEntry | None:
    if not isinstance(path, str) or not _showable(path) or not isinstance(spec, dict):
        return None
    size, md5 = spec.get("size"), spec.get("md5sum")
    if not isinstance(size, int) or isinstance(size, bool) or size < 0 or not isinstance(md5, str):
        return None
    link = _link(spec.get("link")) if "link" in spec else None
    if "link" in spec and link is None:
        return None
    ancestor = _link(spec["link"].get("ancestor")) if link is not None else None
    return FileEntry(path=path, size=size, md5=md5, link=link, origin=ancestor or link)


def _add_folder(folders: dict[str, Folder], name: str) -> Folder:
    """The folder ``name``, made with the parents it lacks (each listed in its parent)."""
    parent, _, last = name.rpartition("/")
    above = folders.get(parent) or _add_folder(folders, parent)
    above.folders.append(last)
    folders[name] = Folder()
    return folders[name]


def build_index(manifest: object) -> VersionIndex:
    """Files sorted by path and grouped by folder; entries of the wrong shape counted, not kept."""
    if not isinstance(manifest, dict):
        return VersionIndex(files=[], folders={"": Folder()}, skipped=1)
    files: list[FileEntry] = []
    skipped = 0
    for path, spec in manifest.items():
        entry = _entry(path, spec)
        if entry is None:
            skipped += 1
        else:
            files.append(entry)
    files.sort(key=lambda f: f.path)
    folders: dict[str, Folder] = {"": Folder()}
    for i, f in enumerate(files):
        parent = f.path.rpartition("/")[0]
        folder = folders.get(parent) or _add_folder(folders, parent)
        folder.files.append(i)
        folder.count += 1
        folder.size += f.size
    # Each folder's totals include its subfolders': add them up deepest first, the root last.
    for name in sorted(folders, key=lambda n: (n != "", n.count("/")), reverse=True):
        if name:
            parent_folder = folders[name.rpartition("/")[0]]
            parent_folder.count += folders[name].count
            parent_folder.size += folders[name].size
    for folder in folders.values():
        folder.folders.sort()
    return VersionIndex(files=files, folders=folders, skipped=skipped, paths=[f.path for f in files])


class IndexCache:
    """Parsed manifests, least recently used dropped first, at most :data:`CACHED_FILES` files, and
    each version's file count and size (the versions page shows them; counted without keeping an
    index). Keyed by the manifest's key and ETag: a version deleted and uploaded again is read anew."""

    def __init__(self, limit: int = CACHED_FILES) -> None:
        self._limit = limit
        self._lock = threading.Lock()
        self._held: OrderedDict[tuple[str, str], VersionIndex] = OrderedDict()
        self._totals: OrderedDict[tuple[str, str], tuple[int, int]] = OrderedDict()

    @staticmethod
    def _tag(storage: Storage, project: str, asset: str, name: str) -> tuple[str, str]:
        key = manifest_key(project, asset, name)
        info = storage.head(key)
        if info is None:
            raise HttpError(404, f"no version '{project}/{asset}/{name}'")
        return key, f"{info.md5}:{info.size}:{info.last_modified.timestamp()}"

    def get(self, storage: Storage, project: str, asset: str, name: str) -> VersionIndex:
        tag = self._tag(storage, project, asset, name)
        with self._lock:
            if tag in self._held:
                self._held.move_to_end(tag)
                return self._held[tag]
        index = build_index(_read_json(storage, tag[0]))
        with self._lock:
            self._held[tag] = index
            while sum(len(i.files) for i in self._held.values()) > self._limit and len(self._held) > 1:
                self._held.popitem(last=False)
            self._remember(tag, (index.folders[""].count, index.folders[""].size))
        return index

    def totals(self, storage: Storage, project: str, asset: str, name: str) -> tuple[int, int]:
        """``(files, bytes)`` of a version (links included: the bytes a clone holds)."""
        tag = self._tag(storage, project, asset, name)
        with self._lock:
            if tag in self._totals:
                self._totals.move_to_end(tag)
                return self._totals[tag]
        # Not browsed lately: count without building (and caching) an index, so a page of big
        # versions does not push the indexes being browsed out of the cache.
        manifest = _read_json(storage, tag[0])
        entries = [e for p, spec in manifest.items() if (e := _entry(p, spec))] if isinstance(manifest, dict) else []
        totals = (len(entries), sum(e.size for e in entries))
        with self._lock:
            self._remember(tag, totals)
        return totals

    def _remember(self, tag: tuple[str, str], totals: tuple[int, int]) -> None:
        self._totals[tag] = totals
        while len(self._totals) > CACHED_TOTALS:
            self._totals.popitem(last=False)
