"""What the server shows the world: no internals in errors, bounded listings, its public URL."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from srvhelpers import Server, start, start_server


@pytest.fixture(scope="module")
def folder_srv(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    server = start_server("folder", tmp_path_factory.mktemp("registry-exposure"))
    try:
        yield server
    finally:
        server.stop()


def _create(srv: Server, name: str) -> None:
    body = {"permissions": {"owners": ["alice"]}}
    assert srv.req("POST", f"/create/{name}", user="admin", json=body).status_code == 200


def test_a_crash_answers_a_request_id_and_logs_the_detail(folder_srv: Server) -> None:
    srv = folder_srv
    _create(srv, "crashy")
    # A file planted where the asset's folder must go: writing the version fails with an OSError
    # naming absolute server paths.
    srv.put_raw("crashy/a", b"not a folder")
    r = start(srv, "alice", "crashy", "a", "v1", {"x": b"x"})
    assert r.status_code == 500
    reason = r.json()["reason"]
    assert str(srv.root) not in reason and "Errno" not in reason
    m = re.fullmatch(r"internal server error \(request id ([0-9a-f]{16}); details are in the server's log\)", reason)
    assert m, reason
    log = Path(srv.root.parent / f"server-{srv.port}.log").read_text()
    line = next(ln for ln in log.splitlines() if m.group(1) in ln)
    assert "POST /upload/start/crashy/a/v1" in line
    assert str(srv.root) in log.split(m.group(1), 1)[1]  # the detail, after the id, for the operator
