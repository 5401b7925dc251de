"""Working trees for the check's tests, built by hand with the cache API (no server): one relative
link per file through the anchor `.git/selenite/objects`, exactly as docs/develop/internals.md lays
them out, committed with real git (the installed hook runs on `commit`)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from selenite.cache import Cache, registry_id
from selenite.config import Settings
from selenite.hook.install import install as install_hook
from selenite.keys import Key, object_relpath
from selenite.tree.links import ANCHOR

URL = "http://127.0.0.1:1"  # never contacted: the check needs no network


def git(cwd: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True)
    if check and proc.returncode != 0:
        raise AssertionError(f"git {' '.join(args)} exited {proc.returncode}:\n{proc.stdout}\n{proc.stderr}")
    return proc


def commit(cwd: Path, msg: str = "change", *extra: str) -> subprocess.CompletedProcess[str]:
    """A real `git commit` (the installed hook runs); returns the process, whatever its exit code."""
    return git(cwd, "commit", "-q", "-m", msg, *extra, check=False)


def link_text(top: Path, rel: str, key: Key | None) -> str:
    assert key is not None
    target = top / ANCHOR / object_relpath(key)
    return os.path.relpath(target, (top / rel).parent)


def make_tree(tmp_path: Path, files: dict[str, bytes], *, install: bool = True,
              name: str = "tree") -> tuple[Path, Cache]:
    """A committed working tree of links into the cache of $SELENITE_CACHE, with its origin recorded."""
    cache = Cache(Path(os.environ["SELENITE_CACHE"]))
    top = tmp_path / name
    top.mkdir()
    git(top, "init", "-q", "-b", "main")
    (top / ".git" / "selenite").mkdir()
    (top / ANCHOR).symlink_to(cache.objects)
    src = tmp_path / "src"
    src.mkdir(exist_ok=True)
    manifest = {}
    for rel, data in files.items():
        (src / "f").write_bytes(data)
        key = cache.put_file(src / "f", filename=rel)
        link = top / rel
        link.parent.mkdir(parents=True, exist_ok=True)
        link.symlink_to(link_text(top, rel, key))
        manifest[rel] = {"size": key.size, "md5sum": key.md5}
    cache.save_manifest(registry_id(URL), "proj", "asset", "v1", manifest)
    for k, v in (("url", URL), ("project", "proj"), ("asset", "asset"), ("version", "v1")):
        git(top, "config", f"selenite.{k}", v)
    git(top, "add", "-A")
    git(top, "commit", "-q", "-m", "v1")
    if install:
        install_hook(top)
    return top, cache


def write_through(link: Path, data: bytes) -> None:
    """What a careless tool (or root) does: make the object writable and write through the link."""
    obj = link.resolve()
    os.chmod(obj, 0o644)
    with open(link, "wb") as f:
        f.write(data)


def settings(cwd: Path | None = None) -> Settings:
    return Settings(url=None, token=None, cache_dir=Path(os.environ["SELENITE_CACHE"]), cwd=cwd or Path.cwd())
