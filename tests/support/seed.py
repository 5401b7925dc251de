"""Seeding a registry: versions uploaded through the real gypsum_client.

``seed_three_versions(registry, tmp_path)`` makes the standard fixture asset ``test/blob``:

- v1: ``a.txt``, ``b/c.csv``, ``big.bin`` (64 KiB), ``dup1.txt`` and ``dup2.dat`` (same bytes);
- v2: ``a.txt`` and ``b/c.csv`` are links to v1, ``big.bin`` is new content, ``new.txt`` new;
- v3: ``a.txt`` links to v2 (so the manifest carries ``ancestor`` = v1), ``moved/c.csv`` links to
  v2's ``b/c.csv``, ``new.txt`` links to v2, ``v3.txt`` new.

It returns ``{version: {path: bytes}}`` — what a clone of each version must contain.
"""

from __future__ import annotations

import datetime
import hashlib
import json
import os
from pathlib import Path
from typing import Any

import gypsum_client as gc

from tests.support.files import write_tree
from tests.support.registry import Registry

PROJECT, ASSET = "test", "blob"


def create_project(registry: Registry, project: str = PROJECT, owners: list[str] | None = None,
                   uploaders: list[dict[str, Any]] | None = None) -> None:
    gc.create_project(project, owners=owners or ["admin"], uploaders=uploaders or [], url=registry.url,
                      token=registry.admin_token)


def upload_version(registry: Registry, tmp: Path, version: str, files: dict[str, bytes],
                   links: dict[str, tuple[str, str, str, str]] | None = None,
                   project: str = PROJECT, asset: str = ASSET, token: str | None = None) -> None:
    """Upload ``files`` (new bytes) plus ``links`` ({path: (project, asset, version, path)})."""
    d = tmp / f"upload-{project}-{asset}-{version}"
    write_tree(d, files)
    link_specs = [
        {"from.path": p, "to.project": t[0], "to.asset": t[1], "to.version": t[2], "to.path": t[3]}
        for p, t in (links or {}).items()
    ]
    init = gc.start_upload(project, asset, version, files=sorted(files), links=link_specs, url=registry.url,
                           token=token or registry.admin_token, directory=str(d))
    gc.upload_files(init, directory=str(d), url=registry.url)
    gc.complete_upload(init, url=registry.url)


def seed_three_versions(registry: Registry, tmp: Path, project: str = PROJECT, asset: str = ASSET,
                        create: bool = True) -> dict[str, dict[str, bytes]]:
    if create:
        create_project(registry, project)
    big = os.urandom(64 * 1024)
    v1 = {"a.txt": b"alpha\n", "b/c.csv": b"x,y\n1,2\n", "big.bin": big, "dup1.txt": b"same\n", "dup2.dat": b"same\n"}
    upload_version(registry, tmp, "v1", v1, project=project, asset=asset)
    big2 = os.urandom(32 * 1024)
    v2_new = {"big.bin": big2, "new.txt": b"new in v2\n"}
    upload_version(registry, tmp, "v2", v2_new, project=project, asset=asset, links={
        "a.txt": (project, asset, "v1", "a.txt"), "b/c.csv": (project, asset, "v1", "b/c.csv"),
    })
    v3_new = {"v3.txt": b"only in v3\n"}
    upload_version(registry, tmp, "v3", v3_new, project=project, asset=asset, links={
        "a.txt": (project, asset, "v2", "a.txt"), "moved/c.csv": (project, asset, "v2", "b/c.csv"),
        "new.txt": (project, asset, "v2", "new.txt"),
    })
    return {
        "v1": v1,
        "v2": {"a.txt": v1["a.txt"], "b/c.csv": v1["b/c.csv"], **v2_new},
        "v3": {"a.txt": v1["a.txt"], "moved/c.csv": v1["b/c.csv"], "new.txt": v2_new["new.txt"], **v3_new},
    }


def plant_version(registry: Registry, version: str, files: dict[str, bytes], project: str = PROJECT,
                  asset: str = ASSET, user: str = "admin") -> None:
    """A finished, official version written straight into the storage as a completed upload leaves it
    (files, manifest, summary), then ``..latest`` and the project's usage recomputed by the server.
    For versions of thousands of files whose upload is not the subject (an upload costs two requests
    per file): this takes a second. The project must exist; no change-log entry is written."""
    manifest = {p: {"size": len(b), "md5sum": hashlib.md5(b).hexdigest()} for p, b in files.items()}
    for p, b in files.items():
        registry.put_raw(f"{project}/{asset}/{version}/{p}", b)
    now = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"
    summary = {"upload_user_id": user, "upload_start": now, "upload_finish": now}
    registry.put_raw(f"{project}/{asset}/{version}/..manifest", json.dumps(manifest).encode())
    registry.put_raw(f"{project}/{asset}/{version}/..summary", json.dumps(summary).encode())
    gc.refresh_latest(project, asset, url=registry.url, token=registry.admin_token)
    gc.refresh_usage(project, url=registry.url, token=registry.admin_token)
