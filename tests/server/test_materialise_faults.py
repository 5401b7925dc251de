"""A removal that dies while it gives the dependent versions their bytes (the server killed between
any two writes) leaves every dependent readable, and running the removal again finishes the job.

The crash is simulated in process: a folder storage whose N-th write raises, for every N up to
the number of writes a clean run makes (a kill at a chosen write cannot be timed from outside).
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest

from selenite.server.materialise import Scope, dependents, materialise
from selenite.server.storage.folder import FolderStorage

P, A = "p", "a"
FILES = {"x.txt": b"x" * 3000, "d/y.txt": b"y" * 100}


class Crash(Exception):
    pass


class CrashingStorage(FolderStorage):
    """Raises ``Crash`` at its ``fail_at``-th write (put, stream, delete); counts writes."""

    def __init__(self, root: Path, fail_at: int | None = None) -> None:
        super().__init__(root)
        self.fail_at, self.writes = fail_at, 0

    def _write_hook(self) -> None:
        self.writes += 1
        if self.fail_at is not None and self.writes == self.fail_at:
            raise Crash

    def put_bytes(self, key: str, data: bytes, *, content_type: str | None = None) -> None:
        self._write_hook()
        super().put_bytes(key, data, content_type=content_type)

    def put_stream(self, key: str, chunks: Any, *, md5_hex: str, content_type: str | None = None) -> Any:
        self._write_hook()
        return super().put_stream(key, chunks, md5_hex=md5_hex, content_type=content_type)

    def delete(self, key: str) -> int | None:
        self._write_hook()
        return super().delete(key)


def _link(v: str, path: str, ancestor: tuple[str, str] | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {"project": P, "asset": A, "version": v, "path": path}
    if ancestor:
        out["ancestor"] = {"project": P, "asset": A, "version": ancestor[0], "path": ancestor[1]}
    return out


def _plant(s: FolderStorage) -> None:
    """v1 holds the bytes; v2 links to them; v3 links to v2 (ancestor v1) and holds a file of its own."""
    def put_json(key: str, obj: Any) -> None:
        FolderStorage.put_bytes(s, key, json.dumps(obj).encode())

    def entry(data: bytes, link: dict[str, Any] | None = None) -> dict[str, Any]:
        e: dict[str, Any] = {"size": len(data), "md5sum": hashlib.md5(data).hexdigest()}
        return {**e, "link": link} if link else e

    put_json(f"{P}/..usage", {"total": 0})
    put_json(f"{P}/{A}/v1/..manifest", {k: entry(d) for k, d in FILES.items()})
    for k, d in FILES.items():
        FolderStorage.put_bytes(s, f"{P}/{A}/v1/{k}", d)
    put_json(f"{P}/{A}/v2/..manifest", {k: entry(d, _link("v1", k)) for k, d in FILES.items()})
    put_json(f"{P}/{A}/v2/..links", {"x.txt": _link("v1", "x.txt")})
    put_json(f"{P}/{A}/v2/d/..links", {"y.txt": _link("v1", "d/y.txt")})
    put_json(f"{P}/{A}/v3/..manifest", {"x.txt": entry(FILES["x.txt"], _link("v2", "x.txt", ("v1", "x.txt"))),
                                        "own.txt": entry(b"own")})
    put_json(f"{P}/{A}/v3/..links", {"x.txt": _link("v2", "x.txt", ("v1", "x.txt"))})
    FolderStorage.put_bytes(s, f"{P}/{A}/v3/own.txt", b"own")


def _readable(s: FolderStorage, v: str) -> dict[str, bytes]:
    """What a reader gets for each file of ``v``: its own object, else its link's (ancestor first)."""
    manifest = json.loads(s.get_bytes(f"{P}/{A}/{v}/..manifest") or b"")
    out = {}
    for path, e in manifest.items():
        link = e.get("link")
        src = (link.get("ancestor") or link) if link else None
        key = f"{src['project']}/{src['asset']}/{src['version']}/{src['path']}" if src else f"{P}/{A}/{v}/{path}"
        data = s.get_bytes(key)
        assert data is not None and hashlib.md5(data).hexdigest() == e["md5sum"], (v, path, key)
        out[path] = data
    return out


def test_a_crash_at_any_write_leaves_dependents_readable_and_a_rerun_finishes(tmp_path: Path) -> None:
    clean = CrashingStorage(tmp_path / "clean")
    _plant(clean)
    want = {v: _readable(clean, v) for v in ("v2", "v3")}
    materialise(clean, Scope(P, A, "v1"))
    total = clean.writes
    assert total >= 5 and dependents(clean, Scope(P, A, "v1")) == []
    copied = 2 * len(FILES["x.txt"]) + len(FILES["d/y.txt"])  # v2's two files, v3's x.txt
    assert json.loads(clean.get_bytes(f"{P}/..usage") or b"") == {"total": copied}

    for n in range(1, total + 1):
        s = CrashingStorage(tmp_path / f"crash-{n}", fail_at=n)
        _plant(s)
        with pytest.raises(Crash):
            materialise(s, Scope(P, A, "v1"))
        assert {v: _readable(s, v) for v in want} == want  # v1 is still there: nothing dangles
        s.fail_at = None
        materialise(s, Scope(P, A, "v1"))  # the removal run again
        assert dependents(s, Scope(P, A, "v1")) == []
        s.delete_prefix(f"{P}/{A}/v1/")
        assert {v: _readable(s, v) for v in want} == want, n
        # Never counted twice; a crash between a manifest and its usage update leaves it short
        # (POST /refresh/usage recounts), as a crash in the worker's own complete would.
        assert json.loads(s.get_bytes(f"{P}/..usage") or b"")["total"] <= copied
