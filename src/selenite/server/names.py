"""Decoding and validating what arrives in URLs and upload requests (gypsum-api.md §0.1, §4)."""

from __future__ import annotations

import re
from urllib.parse import unquote_to_bytes

from selenite.server.errors import HttpError

_BAD_ESCAPE = re.compile(r"%(?![0-9A-Fa-f]{2})")


def decode_component(raw: str) -> str:
    """``decodeURIComponent``: percent-escapes only ('+' stays '+'); malformed → 400."""
    if _BAD_ESCAPE.search(raw):
        raise HttpError(400, "URI malformed")
    try:
        return unquote_to_bytes(raw).decode("utf-8")
    except UnicodeDecodeError:
        raise HttpError(400, "URI malformed") from None


def check_name(kind: str, name: str) -> str:
    """§4.1 for project/asset/version names, plus what no storage can hold ('.', NUL)."""
    if not name:
        raise HttpError(400, f"{kind} name cannot be empty")
    if "/" in name or "\\" in name:
        raise HttpError(400, f"{kind} name cannot contain '/' or '\\'")
    if name.startswith(".."):
        raise HttpError(400, f"{kind} name cannot start with '..'")
    if name == "." or "\x00" in name:
        raise HttpError(400, f"{kind} name cannot be '.' or contain NUL")
    if len(name.encode("utf-8", "surrogatepass")) > 255:
        raise HttpError(400, f"{kind} name cannot be longer than 255 bytes")
    return name


def names(project: str, asset: str | None = None, version: str | None = None) -> tuple[str, ...]:
    """Decode and check the raw path parameters of a route."""
    out = [check_name("project", decode_component(project))]
    if asset is not None:
        out.append(check_name("asset", decode_component(asset)))
    if version is not None:
        out.append(check_name("version", decode_component(version)))
    return tuple(out)


def file_path_problem(path: object) -> str | None:
    """§4.2 for ``files[].path`` (every refusal is a 400 here); None when the path is fine."""
    if not isinstance(path, str):
        return "'files.path' should be a string"
    if not path:
        return "'files.path' cannot be empty"
    parts = path.split("/")
    if any(p.startswith("..") for p in parts):
        return "components of 'files.path' cannot start with '..'"
    if path.startswith("/") or path.endswith("/"):
        return "'files.path' cannot start or end with '/'"
    if "//" in path:
        return "'files.path' cannot contain repeated '/'"
    if "\\" in path:
        return "'files.path' cannot contain '\\'"
    # Beyond the worker: '.' components and NUL would alias or break stored keys.
    if "." in parts or "\x00" in path:
        return "'files.path' cannot contain '.' components or NUL"
    if any(len(p.encode("utf-8", "surrogatepass")) > 255 for p in parts):
        return "components of 'files.path' cannot be longer than 255 bytes"
    return None
