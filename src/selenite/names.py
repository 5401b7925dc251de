"""The rules for project, asset and version names, shared by the client and the server.

The server refuses what breaks them (gypsum-api.md §4.1, plus what no storage or Git working tree
can hold); the client checks the same rules before it publishes, so a push is refused before it
starts instead of by the registry half-way. Pure functions: no I/O, importable from both sides.
"""

from __future__ import annotations

import re

from selenite.safepath import CONTROL

NAME_MAX_BYTES = 255

# What a Git tag cannot hold (git check-ref-format): the client turns every version into a tag.
_TAG_BAD_CHARS = re.compile(r"[ ~^:?*\[\\]")
# Zero-width and bidirectional controls: two names that print the same must not be two versions.
_INVISIBLE = re.compile("[\u200b-\u200f\u202a-\u202e\u2060-\u206f\ufeff]")


def _first(kind: str, rules: tuple[tuple[bool, str], ...]) -> str | None:
    return next((f"{kind} name {why}" for broken, why in rules if broken), None)


def name_problem(kind: str, name: str) -> str | None:
    """Why ``name`` cannot name any project, asset or version (``kind``), or None: §4.1, plus what
    no storage can hold ('.', NUL, more than 255 bytes)."""
    return _first(kind, (
        (not name, "cannot be empty"),
        ("/" in name or "\\" in name, "cannot contain '/' or '\\'"),
        (name.startswith(".."), "cannot start with '..'"),
        (name == "." or "\x00" in name, "cannot be '.' or contain NUL"),
        (len(name.encode("utf-8", "surrogatepass")) > NAME_MAX_BYTES, f"cannot be longer than {NAME_MAX_BYTES} bytes"),
    ))


def new_name_problem(kind: str, name: str) -> str | None:
    """Why ``name`` cannot name a NEW asset or version (None when fine): control characters, or
    what ``git check-ref-format refs/tags/NAME`` refuses, or a leading '-' (an option to git).
    The registry refuses these at upload start (docs/operate/compat.md); existing names that break
    them stay readable."""
    return _first(kind, (
        (bool(CONTROL.search(name)), "cannot contain control characters"),
        (name.startswith("-"), "cannot start with '-'"),
        (name.startswith(".") or name.endswith((".", ".lock")),
         "cannot start or end with '.' or end with '.lock' (not a valid Git tag)"),
        (".." in name or "@{" in name, "cannot contain '..' or '@{' (not a valid Git tag)"),
        (bool(_TAG_BAD_CHARS.search(name)), "cannot contain spaces or any of ~^:?*[\\ (not a valid Git tag)"),
        (name in ("@", "HEAD") or name.endswith("_HEAD"),
         "cannot be '@' or a Git name such as HEAD or FETCH_HEAD (the tag would be ambiguous)"),
        (bool(_INVISIBLE.search(name)), "cannot contain invisible characters (zero-width or bidirectional controls)"),
    ))
