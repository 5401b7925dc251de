"""Seeding helpers shared by the test suites: versions uploaded through the real gypsum_client.

``seed_three_versions(registry, tmp_path)`` makes the standard fixture asset ``test/blob``:

- v1: ``a.txt``, ``b/c.csv``, ``big.bin`` (64 KiB), ``dup1.txt`` and ``dup2.dat`` (same bytes);
- v2: ``a.txt`` and ``b/c.csv`` are links to v1, ``big.bin`` is new content, ``new.txt`` new;
- v3: ``a.txt`` links to v2 (so the manifest carries ``ancestor`` = v1), ``moved/c.csv`` links to
  v2's ``b/c.csv``, ``new.txt`` links to v2, ``v3.txt`` new.

It returns ``{version: {path: bytes}}`` — what a clone of each version must contain.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import gypsum_client as gc

from tests.conftest import Registry

PROJECT, ASSET = "test", "blob"


def md5(data: bytes) -> str:
    return hashlib.md5(data).hexdigest()


def write_tree(root: Path, files: dict[str, bytes]) -> Path:
    for path, data in files.items():
        p = root / path
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(data)
    return root


def git(*args: str, cwd: Path, check: bool = True) -> str:
    return subprocess.run(["git", *args], cwd=cwd, check=check, capture_output=True, text=True).stdout


def run_git(cwd: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """git in ``cwd``, its exit code left to the caller (hook tests look at refusals)."""
    return subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True,
                          env={**os.environ, **(env or {})}, timeout=300)


def ok(proc: subprocess.CompletedProcess[str]) -> subprocess.CompletedProcess[str]:
    assert proc.returncode == 0, f"{proc.args} exited {proc.returncode}\n{proc.stdout}\n{proc.stderr}"
    return proc


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


def bucket_path(registry: Registry, key: str) -> Path:
    """Where the folder backend keeps bucket key ``key`` (tests plant bad data there)."""
    return registry.root / "bucket" / key


def tree_files(root: Path) -> dict[str, bytes]:
    """{path: bytes} of every file of a working tree (through its links), .git excluded."""
    out: dict[str, bytes] = {}
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = [d for d in dirnames if d != ".git"]
        for f in filenames:
            p = Path(dirpath) / f
            out[p.relative_to(root).as_posix()] = p.read_bytes()
    return out


def selenite_in_process(*args: str, cwd: Path) -> tuple[int, str]:
    """The CLI's ``main`` in this process, run from ``cwd``: (exit code, stderr). For tests that run
    many commands whose subject is a refusal (no interpreter start per call); the environment is
    the test's own, as for a subprocess."""
    from selenite.cli import main

    err, out = io.StringIO(), io.StringIO()
    old_argv, old_cwd = sys.argv, os.getcwd()
    sys.argv = ["selenite", *args]
    os.chdir(cwd)
    code: object = 0
    try:
        with contextlib.redirect_stderr(err), contextlib.redirect_stdout(out):
            main()
    except SystemExit as e:
        code = e.code
    finally:
        sys.argv = old_argv
        os.chdir(old_cwd)
    return (0 if code is None else code) if isinstance(code, (int, type(None))) else 2, err.getvalue()
