"""Fixtures of the fault suite: a folder-backed `selenite serve` (the checks read its layout)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import Registry, free_port

LOCK_TTL = 3.0


def start_folder_registry(root: Path, extra_args: list[str] | None = None) -> Registry:
    root.mkdir(parents=True, exist_ok=True)
    reg = Registry(root=root, port=free_port(), extra_args=list(extra_args or []))
    reg.admin_token = reg.token("admin")
    reg.start()
    return reg


@pytest.fixture
def folder_registry(tmp_path: Path) -> Iterator[Registry]:
    reg = start_folder_registry(tmp_path / "registry")
    try:
        yield reg
    finally:
        reg.stop()


@pytest.fixture
def ttl_registry(tmp_path: Path) -> Iterator[Registry]:
    """A folder registry whose abandoned upload locks expire after LOCK_TTL seconds."""
    reg = start_folder_registry(tmp_path / "registry", ["--lock-ttl", str(LOCK_TTL)])
    try:
        yield reg
    finally:
        reg.stop()
