"""Malformed input to every route (see fuzz.py): no 5xx, nothing written outside the storage root."""

from __future__ import annotations

from tests.faults import fuzz
from tests.support.registry import Registry


def test_malformed_requests_to_every_route(ttl_registry: Registry) -> None:
    out = fuzz.fuzz(ttl_registry, examples=400, seed_value=20261121)
    assert out["problems"] == []
    assert out["routes"] >= 18 and out["requests"] >= 400
