"""The server under load: 16 concurrent clients x mixed requests (see loadgen) on 127.0.0.1.
No 5xx, no lost upload, usage totals exact. bench/faults.py runs 16 x 200."""

from __future__ import annotations

from pathlib import Path

from tests.faults import loadgen
from tests.support.registry import Registry


def test_sixteen_clients_mixed_requests(folder_registry: Registry, tmp_path: Path) -> None:
    out = loadgen.run_load(folder_registry, tmp_path, clients=16, requests_each=80, seed=3)
    assert out["problems"] == []
    assert out["requests"] >= 16 * 80
    assert out["completed_versions"] >= 16 and out["aborted_versions"] >= 1, out
    assert any(400 <= s < 500 for s in out["statuses"]), out["statuses"]  # refusals were exercised
    assert folder_registry.proc is not None and folder_registry.proc.poll() is None
