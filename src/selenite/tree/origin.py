"""Where a working tree's content comes from: registry, project, asset and version.

The version is the one HEAD records (the trailers of the newest version commit reachable from
HEAD), so `git checkout v1`, `git pull` or a branch switch change it without telling git config;
git config holds a copy (``record_origin``) and the registry URL when chosen locally.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from selenite import gitrepo
from selenite.errors import NotAWorkingTree


@dataclass(frozen=True)
class Origin:
    """Where a working tree's content lives."""

    url: str
    project: str
    asset: str
    version: str

    @property
    def spec(self) -> str:
        return f"{self.project}/{self.asset}/{self.version}"


def origin(root: Path, config: Mapping[str, str] | None = None) -> Origin | None:
    """The tree's origin: the version HEAD records, with the registry URL of the local config when
    set (a local choice), else the trailers'. Without a version commit (a gypsum_client folder just
    adopted), git config alone. One read of git config (``selenite.*``; none when the caller has
    read it: ``config``, the ``selenite.`` settings without their prefix), one of the commit log."""
    if config is None:
        config = gitrepo.config_section(root, "selenite")
    url = config.get("url") or None
    found = gitrepo.last_version_commit(root)
    head = origin_from_trailers(found[1]) if found is not None else None
    if head is not None:
        return Origin(url or head.url, head.project, head.asset, head.version)
    project, asset, version = (config.get(k) for k in ("project", "asset", "version"))
    if url and project and asset and version:
        return Origin(url, project, asset, version)
    return None


def origin_from_trailers(trailers: Mapping[str, str]) -> Origin | None:
    url = trailers.get(gitrepo.TRAILER_REGISTRY)
    spec = trailers.get(gitrepo.TRAILER_VERSION, "")
    parts = spec.split("/")
    if not url or len(parts) != 3 or not all(parts):
        return None
    return Origin(url, parts[0], parts[1], parts[2])


def record_origin(root: Path, o: Origin, link_mode: str, *, new: bool = False) -> None:
    """Write the origin and the tree's link mode to local git config (``new``: a repository just
    made, whose config need not be read first)."""
    gitrepo.config_update(root, "selenite", {"url": o.url, "project": o.project, "asset": o.asset,
                                             "version": o.version, "linkmode": link_mode}, new=new)


def require_origin(root: Path, config: Mapping[str, str] | None = None) -> Origin:
    o = origin(root, config)
    if o is None:
        raise NotAWorkingTree(f"{root} is not a selenite working tree (no recorded origin; use `selenite clone`)")
    return o
