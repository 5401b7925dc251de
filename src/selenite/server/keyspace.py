"""Names in the gypsum key space (gypsum-api.md §2): where each of the protocol's files lives."""

from __future__ import annotations

import hashlib


def permissions_key(p: str) -> str:
    return f"{p}/..permissions"


def quota_key(p: str) -> str:
    return f"{p}/..quota"


def usage_key(p: str) -> str:
    return f"{p}/..usage"


def lock_key(p: str) -> str:
    return f"{p}/..LOCK"


def latest_key(p: str, a: str) -> str:
    return f"{p}/{a}/..latest"


def version_prefix(p: str, a: str, v: str) -> str:
    return f"{p}/{a}/{v}/"


def summary_key(p: str, a: str, v: str) -> str:
    return f"{p}/{a}/{v}/..summary"


def manifest_key(p: str, a: str, v: str) -> str:
    return f"{p}/{a}/{v}/..manifest"


def staging_prefix(p: str, session_hash: str) -> str:
    """Where one upload session's bytes wait in the staging area (see selenite.server.staging)."""
    return f"{p}/{hashlib.sha256(session_hash.encode()).hexdigest()[:32]}/"
