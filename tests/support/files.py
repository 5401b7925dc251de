"""Files on disk as the tests write and compare them."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path


def md5(data: bytes) -> str:
    return hashlib.md5(data).hexdigest()


def write_tree(root: Path, files: dict[str, bytes]) -> Path:
    """Write ``files`` ({relative path: bytes}) under ``root``, folders included; return ``root``."""
    for path, data in files.items():
        p = root / path
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(data)
    return root


def tree_files(root: Path) -> dict[str, bytes]:
    """{path: bytes} of every file of a working tree (through its links), .git excluded."""
    out: dict[str, bytes] = {}
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = [d for d in dirnames if d != ".git"]
        for f in filenames:
            p = Path(dirpath) / f
            out[p.relative_to(root).as_posix()] = p.read_bytes()
    return out
