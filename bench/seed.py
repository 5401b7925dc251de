"""Put the benchmark datasets into the registry through the gypsum protocol (setup, never timed)."""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from selenite.keys import md5_of_file
from selenite.registry import RegistryClient

PROJECT = "bench"


def write_files(folder: Path, count: int, size: int, per_dir: int = 100) -> dict[str, Path]:
    """``count`` files of ``size`` random bytes (incompressible, all different), ``per_dir`` a folder."""
    files: dict[str, Path] = {}
    for i in range(count):
        rel = f"d{i // per_dir:03d}/f{i:05d}.bin"
        path = folder / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "wb") as f:
            left = size
            while left:
                block = os.urandom(min(left, 1 << 22))
                f.write(block)
                left -= len(block)
        files[rel] = path
    return files


def create_project(url: str, token: str, owner: str) -> None:
    client = RegistryClient(url, token)
    try:
        client.request("POST", f"/create/{PROJECT}", "creating the bench project", token=token,
                       json_body={"permissions": {"owners": [owner], "uploaders": []}}).close()
    finally:
        client.close()


def upload_version(url: str, token: str, asset: str, version: str, files: dict[str, Path], jobs: int = 8) -> None:
    """One new version holding ``files`` (path in the version -> file on disk), uploaded in parallel."""
    client = RegistryClient(url, token, pool=jobs + 2)
    try:
        def entry(item: tuple[str, Path]) -> dict[str, object]:
            md5, size = md5_of_file(item[1])
            return {"type": "simple", "path": item[0], "md5sum": md5, "size": size}

        with ThreadPoolExecutor(jobs) as pool:
            entries = list(pool.map(entry, sorted(files.items())))
        init = client.upload_start(PROJECT, asset, version, entries)
        tok = init["session_token"]

        def put(fu: dict[str, str]) -> None:
            put_url, md5_b64 = client.presigned_url(fu["url"], tok, fu["path"])
            client.put_file(put_url, files[fu["path"]], md5_b64, what=fu["path"])

        with ThreadPoolExecutor(jobs) as pool:
            list(pool.map(put, init["file_urls"]))
        client.upload_complete(init["complete_url"], tok, f"{PROJECT}/{asset}/{version}")
    finally:
        client.close()
