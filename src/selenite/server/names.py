"""Decoding and validating what arrives in URLs and upload requests (gypsum-api.md §0.1, §4)."""

from __future__ import annotations

import re
from urllib.parse import unquote_to_bytes

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


# Upload start refuses, beyond §4, what a Git working tree or a tag cannot hold: the client turns
# every version into a checkout and a tag (docs/operate/compat.md). Reads of existing names stay allowed.
_TAG_BAD_CHARS = re.compile(r"[ ~^:?*\[\\]")
# Zero-width and bidirectional controls: two names that print the same must not be two versions.
_INVISIBLE = re.compile("[\u200b-\u200f\u202a-\u202e\u2060-\u206f\ufeff]")
# Code points HFS+ ignores when comparing names, so ".g\u200cit" is ".git" there (git's is_hfs_dotgit).
_HFS_IGNORED = re.compile("[\u200c-\u200f\u202a-\u202e\u206a-\u206f\ufeff]")
_NTFS_SHORT_GIT = re.compile(r"^git~[1-4]$")


def new_name_problem(kind: str, name: str) -> str | None:
    """Why ``name`` cannot name a NEW asset or version (None when fine): control characters, or
    what ``git check-ref-format refs/tags/NAME`` refuses, or a leading '-' (an option to git)."""
    if CONTROL.search(name):
        return f"{kind} name cannot contain control characters"
    if name.startswith("-"):
        return f"{kind} name cannot start with '-'"
    if name.startswith(".") or name.endswith(".") or name.endswith(".lock"):
        return f"{kind} name cannot start or end with '.' or end with '.lock' (not a valid Git tag)"
    if ".." in name or "@{" in name:
        return f"{kind} name cannot contain '..' or '@{{' (not a valid Git tag)"
    if _TAG_BAD_CHARS.search(name):
        return f"{kind} name cannot contain spaces or any of ~^:?*[\\ (not a valid Git tag)"
    if name == "@" or name == "HEAD" or name.endswith("_HEAD"):
        return f"{kind} name cannot be '@' or a Git name such as HEAD or FETCH_HEAD (the tag would be ambiguous)"
    if _INVISIBLE.search(name):
        return f"{kind} name cannot contain invisible characters (zero-width or bidirectional controls)"
    return None


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
    # Beyond the worker: what a Git working tree cannot hold, or would print raw to a terminal.
    if CONTROL.search(path):
        return "'files.path' cannot contain control characters"
    if any(is_dot_git(p) for p in parts):
        return "'files.path' cannot have a '.git' component (in any case or spelling)"
    return None
