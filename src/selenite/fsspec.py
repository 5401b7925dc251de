"""``selenite://PROJECT/ASSET@VERSION/PATH``: a registry's versions as an fsspec filesystem, so that
pandas, zarr, h5py, xarray... read a version's files, or parts of them, without a clone.

Registered as the ``selenite`` protocol through the ``fsspec.specs`` entry point (pyproject.toml).
Read-only. The registry is the one the CLI would use outside a working tree (the ``registry=``
storage option, or ``url=`` as the CLI's ``--url``; else ``$SELENITE_URL``, else that of the last
``selenite login``), with the token that goes with it (``token=``); the cache is the shared one
(``cache_dir=``, else ``$SELENITE_CACHE``).

Where the bytes come from, per opened file:

* the object is in the shared cache (intact): the local file, no request at all;
* ``whole_objects=True``: the whole object is downloaded into the shared cache first (checked
  against its md5, as a clone does; later opens and clones reuse it), then read locally;
* otherwise: HTTP range requests for the parts read (``Range: bytes=a-b``), kept in memory by
  fsspec's block caches (``cache_type``, ``block_size``: default ``readahead`` of 256 KiB). A part
  cannot be checked against the md5 of the whole; a read of a whole object (``cat_file``) is.

Listing: ``""`` lists projects, ``PROJECT`` its assets (``PROJECT/ASSET``), ``PROJECT/ASSET`` its
versions (``PROJECT/ASSET@VERSION``), and below a version its manifest's folders and files.
"""

from __future__ import annotations

import builtins
import threading
from pathlib import Path
from typing import Any

from fsspec.spec import AbstractBufferedFile, AbstractFileSystem

from selenite import config, lookup, transfer
from selenite.cache import OK, Cache, registry_id
from selenite.errors import NotFound
from selenite.keys import Digest
from selenite.manifests import FileSpec, parse_manifest
from selenite.registry.client import connect

BLOCK_SIZE = 256 << 10  # small: a read of 1 MB from a large file moves about 1 MB


class SeleniteFileSystem(AbstractFileSystem):  # type: ignore[misc]  # fsspec ships no type information
    """A registry's finished versions, read-only (see the module docstring)."""

    protocol = "selenite"
    root_marker = ""

    def __init__(self, registry: str | None = None, token: str | None = None, cache_dir: str | None = None,
                 whole_objects: bool = False, block_size: int = BLOCK_SIZE, url: str | None = None,
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        # ``url`` is the same option under the name the CLI uses (--url); zarr cannot pass it (it
        # hands the storage options to ``fsspec.url_to_fs(url, ...)``), hence ``registry``.
        settings = config.load(url=registry or url, token=token, cache=Path(cache_dir) if cache_dir else None)
        endpoint = settings.endpoint()
        self.client = connect(endpoint.url, endpoint.token)
        self.cache = Cache(settings.cache_dir)
        self.whole_objects = whole_objects
        self.blocksize = block_size
        self._versions: dict[tuple[str, str, str], tuple[dict[str, FileSpec], set[str]]] = {}
        self._lock = threading.Lock()

    # --- paths and manifests ---------------------------------------------------------------

    def _split(self, path: str) -> tuple[list[str], str]:
        """``(names, inner)``: up to ``[project, asset, version]``, and the path inside the version."""
        parts = self._strip_protocol(path).split("/")
        if parts == [""]:
            return [], ""
        if any(not p for p in parts):
            raise FileNotFoundError(path)
        if len(parts) < 2 or "@" not in parts[1]:
            if len(parts) > 2:  # a path inside an asset names no version
                raise FileNotFoundError(f"{path}: name a version, as PROJECT/ASSET@VERSION/PATH")
            return parts, ""
        asset, _, version = parts[1].partition("@")
        if not asset or not version:
            raise FileNotFoundError(path)
        return [parts[0], asset, version], "/".join(parts[2:])

    def _version(self, project: str, asset: str, version: str) -> tuple[dict[str, FileSpec], set[str]]:
        """The version's files (its checked manifest) and folders, asked for once per filesystem."""
        with self._lock:
            known = self._versions.get((project, asset, version))
        if known is not None:
            return known
        try:
            m = lookup.manifest(self.client, self.cache, registry_id(self.client.url), project, asset, version)
        except NotFound:
            raise FileNotFoundError(f"{project}/{asset}@{version}") from None
        specs = parse_manifest(m, project, asset, version)
        folders = {""}
        for p in specs:
            parts = p.split("/")
            folders.update("/".join(parts[:i]) for i in range(1, len(parts)))
        with self._lock:
            self._versions[(project, asset, version)] = (specs, folders)
        return specs, folders

    def _spec(self, path: str) -> FileSpec:
        names, inner = self._split(path)
        spec = self._version(*names)[0].get(inner) if len(names) == 3 else None
        if spec is None:
            raise FileNotFoundError(path)
        return spec

    # --- listing ---------------------------------------------------------------------------

    def ls(self, path: str, detail: bool = True, **kwargs: Any) -> list[Any]:
        names, inner = self._split(path)
        try:
            entries = self._children(names, inner) if len(names) == 3 else [self._folder(n) for n in self._names(names)]
        except NotFound:
            raise FileNotFoundError(path) from None
        return entries if detail else [e["name"] for e in entries]

    def _names(self, names: list[str]) -> list[str]:
        if not names:
            return self.client.list_projects()
        project = names[0]
        if project not in self.client.list_projects():
            raise NotFound(project)
        if len(names) == 1:
            return [f"{project}/{a}" for a in self.client.list_assets(project)]
        if names[1] not in self.client.list_assets(project):
            raise NotFound(names[1])
        return [f"{project}/{names[1]}@{v}" for v in self.client.list_versions(project, names[1])]

    def _children(self, names: list[str], inner: str) -> list[dict[str, Any]]:
        specs, folders = self._version(*names)
        top = f"{names[0]}/{names[1]}@{names[2]}"
        if inner in specs:
            return [self._file(f"{top}/{inner}", specs[inner])]
        if inner not in folders:
            raise FileNotFoundError(f"{top}/{inner}")
        prefix = f"{inner}/" if inner else ""
        subdirs = {f for f in folders if f.startswith(prefix) and f != inner and "/" not in f[len(prefix):]}
        files = [p for p in specs if p.startswith(prefix) and "/" not in p[len(prefix):]]
        return ([self._folder(f"{top}/{d}") for d in sorted(subdirs)]
                + [self._file(f"{top}/{p}", specs[p]) for p in sorted(files)])

    @staticmethod
    def _folder(name: str) -> dict[str, Any]:
        return {"name": name, "size": 0, "type": "directory"}

    @staticmethod
    def _file(name: str, spec: FileSpec) -> dict[str, Any]:
        return {"name": name, "size": spec.key.size, "type": "file", "md5": spec.key.md5, "key": spec.key.name}

    def info(self, path: str, **kwargs: Any) -> dict[str, Any]:
        names, inner = self._split(path)
        name = self._strip_protocol(path)
        if len(names) == 3:
            specs, folders = self._version(*names)
            if inner in specs:
                return self._file(name, specs[inner])
            if inner in folders:
                return self._folder(name)
            raise FileNotFoundError(path)
        if names and name not in self.ls(self._parent(name), detail=False):
            raise FileNotFoundError(path)
        return self._folder(name)

    # --- reading ---------------------------------------------------------------------------

    def _open(self, path: str, mode: str = "rb", block_size: int | None = None, autocommit: bool = True,
              cache_options: dict[str, Any] | None = None, **kwargs: Any) -> Any:
        if mode != "rb":
            raise PermissionError(f"{path}: selenite:// is read-only (push a new version with `selenite push`)")
        spec = self._spec(path)
        local = self._local(spec)
        if local is not None:
            return builtins.open(local, "rb")
        return _RangedFile(self, path, spec, block_size or self.blocksize, kwargs.get("cache_type", "readahead"),
                           cache_options)

    def _local(self, spec: FileSpec) -> Path | None:
        """The cached object's path when it is there intact (fetched first with ``whole_objects``)."""
        if self.cache.state(spec.key) == OK:
            return self.cache.object_path(spec.key)
        if self.whole_objects:
            transfer.fetch_objects(self.client, self.cache, {spec.key: spec.source}, jobs=1)
            return self.cache.object_path(spec.key)
        return None

    def cat_file(self, path: str, start: int | None = None, end: int | None = None, **kwargs: Any) -> bytes:
        """Bytes ``start``..``end`` (negative: from the end) in one request, or from the cache."""
        spec = self._spec(path)
        size = spec.key.size
        first = 0 if start is None else max(0, size + start) if start < 0 else min(start, size)
        stop = size if end is None else max(0, size + end) if end < 0 else min(end, size)
        local = self._local(spec)
        if local is not None:
            with builtins.open(local, "rb") as f:
                f.seek(first)
                return f.read(max(0, stop - first))
        return self.read_range(spec, first, stop)

    def read_range(self, spec: FileSpec, start: int, end: int) -> bytes:
        """Bytes ``start`` to ``end`` (exclusive) of a file from the registry; a whole object is
        checked against its md5. A registry that ignores ``Range`` sends everything from byte 0:
        the part is cut out of it, and the rest is not read."""
        size = spec.key.size
        end = min(end, size)
        if start >= end:
            return b""
        at, chunks = self.client.iter_range(spec.source, size, start, end - 1)
        out = bytearray()
        digest = Digest() if (start, end) == (0, size) else None
        try:
            for block in chunks:
                part = block[max(0, start - at) : end - at]
                at += len(block)
                out += part
                if digest is not None:
                    digest.update(part)
                if at >= end:
                    break
        finally:
            chunks.close()
        if digest is not None:
            digest.check(spec.key, f"registry sent wrong bytes for {spec.source}")
        return bytes(out)


class _RangedFile(AbstractBufferedFile):  # type: ignore[misc]  # fsspec ships no type information
    """A file of a version read by range requests, through fsspec's block caches."""

    def __init__(self, fs: SeleniteFileSystem, path: str, spec: FileSpec, block_size: int, cache_type: str,
                 cache_options: dict[str, Any] | None) -> None:
        self.spec = spec
        super().__init__(fs, path, mode="rb", block_size=block_size, cache_type=cache_type,
                         cache_options=cache_options, size=spec.key.size)

    def _fetch_range(self, start: int, end: int) -> bytes:
        data: bytes = self.fs.read_range(self.spec, start, end)
        return data
