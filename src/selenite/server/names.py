"""Decoding and validating what arrives in URLs and upload requests (gypsum-api.md §0.1, §4)."""

from __future__ import annotations

import re
from collections.abc import Callable
from urllib.parse import unquote_to_bytes

from selenite.names import name_problem
from selenite.safepath import CONTROL, file_and_folder
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
    """§4.1 for project/asset/version names, plus what no storage can hold ('.', NUL): the rules
    the client checks too (``selenite.names``)."""
    why = name_problem(kind, name)
    if why is not None:
        raise HttpError(400, why)
    return name


# Code points HFS+ ignores when comparing names, so ".g\u200cit" is ".git" there (git's is_hfs_dotgit).
_HFS_IGNORED = re.compile("[\u200c-\u200f\u202a-\u202e\u206a-\u206f\ufeff]")
_NTFS_SHORT_GIT = re.compile(r"^git~[1-4]$")


def collision_problem(paths: list[str]) -> str | None:
    """A manifest holding both ``x`` and ``x/y`` can never be stored (nor checked out)."""
    hit = file_and_folder(paths)
    if hit is not None:
        return f"'files.path' holds both '{hit[0]}' and '{hit[1]}' (a file cannot also be a folder)"
    # gypsum_client writes a space in a /file/ key as '+', and the read route then takes '+' for a
    # space when no such file exists; a version holding both spellings would serve gypsum_client
    # users other bytes than selenite clones show at the same path.
    by_spelling: dict[str, str] = {}
    for path in paths:
        other = by_spelling.setdefault(path.replace("+", " "), path)
        if other != path:
            return (f"'files.path' holds both '{other}' and '{path}', which gypsum_client cannot tell "
                    "apart (it sends a space as '+')")
    return None


def is_dot_git(component: str) -> bool:
    """True for a path component Git treats as its own '.git' on some filesystem: any case, with
    trailing dots or spaces or an NTFS stream suffix (':...'), the 8.3 short name 'git~1', or with
    the code points HFS+ ignores (git's is_ntfs_dotgit / is_hfs_dotgit)."""
    name = _HFS_IGNORED.sub("", component).lower().split(":", 1)[0].rstrip(" .")
    return name == ".git" or bool(_NTFS_SHORT_GIT.match(name))


def names(project: str, asset: str | None = None, version: str | None = None) -> tuple[str, ...]:
    """Decode and check the raw path parameters of a route."""
    out = [check_name("project", decode_component(project))]
    if asset is not None:
        out.append(check_name("asset", decode_component(asset)))
    if version is not None:
        out.append(check_name("version", decode_component(version)))
    return tuple(out)


# §4.2 for files[].path, in the worker's order, then ours: (refused when true for (path, its parts), why).
_PATH_RULES: tuple[tuple[Callable[[str, list[str]], object], str], ...] = (
    (lambda path, parts: not path, "'files.path' cannot be empty"),
    (lambda path, parts: any(p.startswith("..") for p in parts), "components of 'files.path' cannot start with '..'"),
    (lambda path, parts: path.startswith("/") or path.endswith("/"), "'files.path' cannot start or end with '/'"),
    (lambda path, parts: "//" in path, "'files.path' cannot contain repeated '/'"),
    (lambda path, parts: "\\" in path, "'files.path' cannot contain '\\'"),
    # Beyond the worker: '.' components and NUL would alias or break stored keys.
    (lambda path, parts: "." in parts or "\x00" in path, "'files.path' cannot contain '.' components or NUL"),
    (lambda path, parts: any(len(p.encode("utf-8", "surrogatepass")) > 255 for p in parts),
     "components of 'files.path' cannot be longer than 255 bytes"),
    # Beyond the worker: what a Git working tree cannot hold, or would print raw to a terminal.
    (lambda path, parts: CONTROL.search(path), "'files.path' cannot contain control characters"),
    (lambda path, parts: any(is_dot_git(p) for p in parts),
     "'files.path' cannot have a '.git' component (in any case or spelling)"),
)


def file_path_problem(path: object) -> str | None:
    """§4.2 for ``files[].path`` (every refusal is a 400 here); None when the path is fine."""
    if not isinstance(path, str):
        return "'files.path' should be a string"
    parts = path.split("/")
    return next((why for refused, why in _PATH_RULES if refused(path, parts)), None)
