"""A registry that sends wrong bytes, truncates bodies or drops connections (a real proxy on a
real socket, see badproxy.py): a fault that happens once is retried away, one that persists makes
the command fail in one line, and no bad object ever enters the cache."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.faults import badproxy
from tests.support.registry import Registry


@pytest.fixture
def files(folder_registry: Registry, tmp_path: Path) -> dict[str, bytes]:
    return badproxy.seed_files(folder_registry, tmp_path)


@pytest.mark.parametrize("mode", ["corrupt", "truncate", "drop"])
@pytest.mark.parametrize("times", [1, None], ids=["once", "always"])
def test_clone_through_a_misbehaving_registry(folder_registry: Registry, files: dict[str, bytes], tmp_path: Path,
                                              mode: str, times: int | None) -> None:
    outcome, problems = badproxy.clone_through(folder_registry, tmp_path, f"{mode}-{times}", mode, times, files)
    assert problems == []
    assert outcome.startswith(badproxy.expected_outcome(mode, times)), outcome
    if mode == "corrupt" and times is None:
        assert "wrong bytes" in outcome


def test_truncated_manifest_is_one_line(folder_registry: Registry, files: dict[str, bytes], tmp_path: Path) -> None:
    outcome, problems = badproxy.clone_through(
        folder_registry, tmp_path, "manifest", "truncate", None, files, target="any"
    )
    assert problems == [] and outcome.startswith("failed"), outcome
