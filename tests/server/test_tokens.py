"""Secrets at rest (issue 11, item 7): private state files, `selenite token list` and `revoke`."""

from __future__ import annotations

import hashlib
import json
import os
import stat
import subprocess
import sys
from pathlib import Path

from srvhelpers import Server, start_server


def _cli(srv: Server, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "selenite", "token", *args, *srv.storage_args()],
                          capture_output=True, text=True, timeout=60, env={**os.environ, **srv.env()})


def _status(srv: Server, token: str) -> int:
    """401 for an unknown token; any other answer means the token was recognised."""
    return srv.req("POST", "/upload/start/no-such-project/a/v1", token=token, json={"files": []}).status_code


def test_list_shows_ids_never_tokens_and_revoke_takes_an_id_or_a_user(srv: Server) -> None:
    a1, a2 = (_cli(srv, "create", "ann").stdout.strip() for _ in range(2))
    b1 = _cli(srv, "create", "ben").stdout.strip()
    # A record as every earlier version wrote it, and one without a creation time.
    legacy = "sel_legacy-token-from-an-older-server"
    name = "tokens/" + hashlib.sha256(legacy.encode()).hexdigest()
    _plant_state(srv, name, json.dumps({"user": "old"}).encode())

    listed = _cli(srv, "list")
    assert listed.returncode == 0, listed.stderr
    rows = [line.split() for line in listed.stdout.splitlines()]
    by_user: dict[str, list[str]] = {}
    for ident, _created, user in rows:
        assert len(ident) == 12 and all(c in "0123456789abcdef" for c in ident)
        by_user.setdefault(user, []).append(ident)
    assert len(by_user["ann"]) == 2 and len(by_user["ben"]) == 1 and len(by_user["old"]) == 1
    for secret in (a1, a2, b1, legacy):
        assert secret not in listed.stdout and secret[4:] not in listed.stdout
    assert [r[2] for r in (line.split() for line in _cli(srv, "list", "ann").stdout.splitlines())] == ["ann", "ann"]
    assert all(_status(srv, t) != 401 for t in (a1, a2, b1, legacy))

    a1_id = hashlib.sha256(a1.encode()).hexdigest()[:12]
    r = _cli(srv, "revoke", a1_id)
    assert r.returncode == 0 and f"revoked token {a1_id} of ann" in r.stderr
    assert _status(srv, a1) == 401 and _status(srv, a2) != 401  # the running server refuses it at once
    r = _cli(srv, "revoke", "ben")
    assert r.returncode == 0 and r.stderr.count("revoked token") == 1
    assert _status(srv, b1) == 401
    r = _cli(srv, "revoke", "old")
    assert r.returncode == 0 and _status(srv, legacy) == 401
    r = _cli(srv, "revoke", "nobody")
    assert r.returncode == 1 and r.stderr.count("\n") == 1 and "no token" in r.stderr
    assert [line.split()[2] for line in _cli(srv, "list").stdout.splitlines()].count("ann") == 1


def _plant_state(srv: Server, name: str, data: bytes) -> None:
    if srv.backend == "s3":
        srv.s3_client().put_object(Bucket=srv.s3_bucket, Key=f"{srv.s3_prefix}/state/{name}", Body=data)
        return
    path = srv.root / "state" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


def _modes(root: Path) -> dict[str, int]:
    return {p.relative_to(root).as_posix(): stat.S_IMODE(p.stat().st_mode) for p in root.rglob("*")}


def test_state_files_are_0600_when_written_and_fixed_at_start_up(tmp_path: Path) -> None:
    srv = start_server("folder", tmp_path / "registry")
    try:
        # The signing secret is made on the first presign; an upload makes it and a lock take-over.
        body = {"permissions": {"owners": ["alice"]}}
        assert srv.req("POST", "/create/tp", user="admin", json=body).status_code == 200
        init = srv.req("POST", "/upload/start/tp/a/v1", user="alice",
                       json={"files": [{"type": "simple", "path": "x", "md5sum": "9dd4e461268c8034f5c8564e155c67a6",
                                        "size": 1}]}).json()
        assert srv.req("POST", init["file_urls"][0]["url"], token=init["session_token"]).status_code == 200
    finally:
        srv.stop()
    state = tmp_path / "registry" / "state"
    modes = _modes(state)
    assert "upload-signing-secret" in modes and any(k.startswith("tokens/") for k in modes)
    for name, mode in modes.items():
        assert mode == (0o700 if (state / name).is_dir() else 0o600), (name, oct(mode))
    assert stat.S_IMODE(state.stat().st_mode) == 0o700
    # Files an older version left readable by all are fixed when the server starts.
    for name in modes:
        os.chmod(state / name, 0o755 if (state / name).is_dir() else 0o644)
    srv.start()
    try:
        assert srv.req("GET", "/list").status_code == 200
    finally:
        srv.stop()
    for name, mode in _modes(state).items():
        assert mode == (0o700 if (state / name).is_dir() else 0o600), (name, oct(mode))
