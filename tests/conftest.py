"""Shared fixtures: an isolated environment, real git, and a real `selenite serve` process."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support import s3server
from tests.support.env import DROPPED_PREFIXES, isolated_vars
from tests.support.evilreg import EvilRegistry
from tests.support.registry import BACKENDS, Registry, start_registry


@pytest.fixture(autouse=True)
def _isolated_env(monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory) -> None:
    """No test reads or writes the real home, git config, selenite config or cache."""
    for k in list(os.environ):
        if k.startswith(DROPPED_PREFIXES):
            monkeypatch.delenv(k)
    env = isolated_vars(tmp_path_factory.mktemp("home"), tmp_path_factory.mktemp("git-template"),
                        tmp_path_factory.mktemp("cache"))
    for k, v in env.items():
        monkeypatch.setenv(k, v)


@pytest.fixture(scope="session", autouse=True)
def _s3_server_lifetime() -> Iterator[None]:
    """Stop the session's SeaweedFS (started on first use by an S3 test) when the run ends."""
    yield
    s3server.stop_shared()


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "backends(*names): run this test's `registry` only on these storage backends "
        "(default: all of BACKENDS); for tests whose subject is not the storage, to keep the suite lean")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Every test that uses `registry` (directly or through another fixture) runs once per backend."""
    if "registry" in metafunc.fixturenames and not _parametrizes_registry(metafunc):
        marker = metafunc.definition.get_closest_marker("backends")
        backends = list(marker.args) if marker else BACKENDS
        unknown = set(backends) - set(BACKENDS)
        if unknown:
            raise ValueError(f"unknown backends {sorted(unknown)} in @pytest.mark.backends")
        metafunc.parametrize("registry", backends, indirect=True)


def _parametrizes_registry(metafunc: pytest.Metafunc) -> bool:
    """A test may also pick its backends itself: ``parametrize("registry", ["folder"], indirect=True)``."""
    for m in metafunc.definition.iter_markers("parametrize"):
        names = m.args[0] if m.args else m.kwargs.get("argnames", "")
        names = [n.strip() for n in names.split(",")] if isinstance(names, str) else list(names)
        if "registry" in names:
            return True
    return False


@pytest.fixture
def registry(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Registry]:
    root = tmp_path / "registry"
    reg = start_registry(root, getattr(request, "param", "folder"))
    try:
        yield reg
    finally:
        reg.stop()


@pytest.fixture
def evilreg() -> Iterator[EvilRegistry]:
    """A hostile registry (tests/support/evilreg.py) on 127.0.0.1: serves whatever the test puts in it."""
    with EvilRegistry() as reg:
        yield reg
