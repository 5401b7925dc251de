"""History across registry versions (issue 14): the stale-base refusal, deterministic version
commits, `selenite fetch`, `pull` and `checkout`. Real `selenite serve`, real git."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.e2e.test_push import git, seed
from tests.support.cli import selenite
from tests.support.registry import Registry

pytestmark = pytest.mark.backends("folder")  # the subject is history, not the storage

V1 = {"keep.txt": b"kept\n", "data/one.csv": b"a,b\n1,2\n", "edit.txt": b"line 1\nline 2\nline 3\n"}


def clone(registry: Registry, dest: Path, *args: str) -> Path:
    selenite("clone", "proj/data", dest, "--url", registry.url, *args)
    return dest


def push(tree: Path, registry: Registry, *args: str, check: bool = True) -> str:
    proc = selenite("push", "--token", registry.admin_token, *args, cwd=tree, check=check)
    return proc.stdout + proc.stderr


def test_a_push_from_a_stale_base_is_refused(registry: Registry, tmp_path: Path) -> None:
    seed(registry, tmp_path, V1)
    a, b = clone(registry, tmp_path / "a"), clone(registry, tmp_path / "b")
    (a / "a.txt").write_bytes(b"from A\n")
    push(a, registry)  # v2
    (b / "b.txt").write_bytes(b"from B\n")
    refusal = "selenite: error: the registry has v2; `selenite pull` first, or `--force` to publish anyway"
    for args in ((), ("--dry-run",)):
        proc = selenite("push", "--token", registry.admin_token, *args, cwd=b, check=False)
        assert proc.returncode == 1 and proc.stderr.strip() == refusal, proc.stderr
    assert "plan for proj/data/v3" in push(b, registry, "--dry-run", "--force")
    assert git("status", "--porcelain", cwd=b).strip() == "?? b.txt"  # nothing changed by the refusals
