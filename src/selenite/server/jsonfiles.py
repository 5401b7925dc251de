"""The protocol's small JSON files (``..summary``, ``..manifest``, ``..usage``...), read and written."""

from __future__ import annotations

import json
from typing import Any

from selenite.server.errors import HttpError
from selenite.server.storage.base import Storage


def dumps(obj: Any) -> bytes:
    """Compact like ``JSON.stringify``, key order kept."""
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def read_json(storage: Storage, key: str, must: bool = True) -> Any:
    """The parsed file; None when it is absent and not ``must`` (absent and ``must``: a 500)."""
    data = storage.get_bytes(key)
    if data is None:
        if must:
            raise HttpError(500, f"no file at '{key}'")
        return None
    try:
        return json.loads(data)
    except ValueError as e:
        raise HttpError(500, f"failed to parse JSON; {e}") from None


def write_json(storage: Storage, key: str, obj: Any) -> None:
    storage.put_bytes(key, dumps(obj), content_type="application/json")
