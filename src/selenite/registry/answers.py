"""Reading a registry's answers, bounded: every answer is hostile until checked. JSON answers stop
at ``JSON_MAX`` bytes (manifests and listings, about a million files) or ``SMALL_JSON_MAX``
(everything else), refusal reasons at ``REASON_MAX``; no answer is read past what it may hold."""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING, Any

from selenite.errors import RegistryError
from selenite.keys import CHUNK
from selenite.registry.session import translating

if TYPE_CHECKING:
    import requests

JSON_MAX = 128 << 20  # a manifest or listing of about a million files
SMALL_JSON_MAX = 1 << 20  # summaries, latest, upload answers...
REASON_MAX = 64 << 10  # the body of a refusal: only its first line is shown
_CONTENT_RANGE = re.compile(r"bytes ([0-9]{1,19})-([0-9]{1,19})/([0-9]{1,19})")


def read_capped(resp: requests.Response, limit: int) -> tuple[bytes, bool]:
    """A streamed body of at most ``limit`` bytes, and False; or b"" and True when there is more
    (flat memory: a registry may send gigabytes where a few bytes are due)."""
    buf = bytearray()
    with translating("the registry's answer"):
        for block in resp.iter_content(min(limit + 1, CHUNK)):
            buf += block
            if len(buf) > limit:
                return b"", True  # the caller refuses the answer: no copy of it
    return bytes(buf), False


def content_range(resp: requests.Response) -> tuple[int, int, int] | None:
    """``(first, last, size)`` of a 206 answer's ``Content-Range``; None when it has no valid one."""
    m = _CONTENT_RANGE.fullmatch(resp.headers.get("Content-Range", "").strip())
    return None if m is None else (int(m.group(1)), int(m.group(2)), int(m.group(3)))


def load_json(data: bytes) -> Any:
    try:
        return json.loads(data)
    except (ValueError, RecursionError):  # RecursionError: absurdly deep nesting
        raise ValueError("not JSON") from None


def reason(resp: requests.Response) -> str:
    """The registry's one-line reason for a refusal: its JSON ``reason``, else the body's first line."""
    try:
        data, _ = read_capped(resp, REASON_MAX)
    except RegistryError:
        data = b""
    try:
        body = load_json(data)
    except ValueError:
        body = None
    if isinstance(body, dict) and isinstance(body.get("reason"), str):
        text: str = body["reason"]
    else:
        lines = data.decode("utf-8", "replace").strip().splitlines()
        text = lines[0] if lines else (resp.reason or "")
    return text[:200] if text.isprintable() else repr(text[:200])


def error_body(resp: requests.Response, body: Any) -> str | None:
    """The worker sometimes answers 200 with an error body; treat that as a refusal too."""
    if "json" not in resp.headers.get("content-type", ""):
        return None
    if isinstance(body, dict) and body.get("status") == "error":
        return str(body.get("reason", "error"))[:200]
    return None


def is_upload_start(data: Any) -> bool:
    """``{"session_token", "complete_url", "abort_url": str, "file_urls": [{"path", "url": str}]}``"""
    if not isinstance(data, dict):
        return False
    if not all(isinstance(data.get(k), str) for k in ("session_token", "complete_url", "abort_url")):
        return False
    urls = data.get("file_urls", [])
    return isinstance(urls, list) and all(
        isinstance(u, dict) and isinstance(u.get("path"), str) and isinstance(u.get("url"), str) for u in urls)


def is_dependents(data: Any) -> bool:
    """``GET /_selenite/dependents``: ``[{"project", "asset", "version": str, "paths": [str]}]``."""
    return isinstance(data, list) and all(
        isinstance(d, dict) and all(isinstance(d.get(k), str) for k in ("project", "asset", "version"))
        and isinstance(d.get("paths"), list) and all(isinstance(p, str) for p in d["paths"]) for d in data)


def is_permissions(data: Any) -> bool:
    """A ``..permissions`` file (§2.1): ``owners`` strings and ``uploaders`` objects with a string
    ``id`` (either list may be absent: it then reads as empty)."""
    if not isinstance(data, dict):
        return False
    owners, uploaders = data.get("owners", []), data.get("uploaders", [])
    return (isinstance(owners, list) and all(isinstance(o, str) for o in owners) and isinstance(uploaders, list)
            and all(isinstance(u, dict) and isinstance(u.get("id"), str) for u in uploaders))
