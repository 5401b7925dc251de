"""Server fixtures: one `selenite serve` process per test module, per storage backend (see srvhelpers)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from srvhelpers import Server, start_server
from tests.support.registry import BACKENDS


@pytest.fixture(scope="module", params=BACKENDS)
def srv(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    server = start_server(request.param, tmp_path_factory.mktemp("registry"))
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def project(srv: Server) -> str:
    """A fresh project owned by alice, with bob as a trusted uploader and carol untrusted."""
    name = f"p-{uuid.uuid4().hex[:10]}"
    body = {"permissions": {"owners": ["alice"], "uploaders": [{"id": "bob", "trusted": True}, {"id": "carol"}]}}
    r = srv.req("POST", f"/create/{name}", user="admin", json=body)
    assert r.status_code == 200, r.text
    return name


