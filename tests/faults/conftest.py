"""Fixtures of the fault suite: a folder-backed `selenite serve` (the checks read its layout)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.faults.faultlib import LOCK_TTL
from tests.support.registry import Registry, start_registry


@pytest.fixture
def folder_registry(tmp_path: Path) -> Iterator[Registry]:
    reg = start_registry(tmp_path / "registry")
    try:
        yield reg
    finally:
        reg.stop()


@pytest.fixture
def ttl_registry(tmp_path: Path) -> Iterator[Registry]:
    """A folder registry whose abandoned upload locks expire after LOCK_TTL seconds."""
    reg = start_registry(tmp_path / "registry", extra_args=["--lock-ttl", str(LOCK_TTL)])
    try:
        yield reg
    finally:
        reg.stop()
