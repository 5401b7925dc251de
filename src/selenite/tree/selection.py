"""Which paths of a version a pattern clone fetches: ``--include`` / ``--exclude`` globs.

The rule (docs/user/patterns.md states it for users): a pattern is matched against a manifest
path, the ``/``-separated path from the top of the version, never against the disk.

- ``*`` matches any run of characters within one path segment, ``?`` one character but ``/``;
  every other character, ``[`` and ``\\`` included, stands for itself.
- ``**`` as a whole segment crosses segments: ``**/x`` is ``x`` at any depth, ``a/**`` everything
  below ``a``, ``a/**/b`` ``b`` anywhere below ``a``. Elsewhere (``a**``) it is a plain ``*``.
- A pattern without a ``/`` (``*.tsv``) matches the file name at any depth, as in ``.gitignore``;
  a leading ``/`` anchors it at the top instead (``/*.tsv``). A trailing ``/`` means everything
  below a folder (``counts/`` is ``counts/**``, at any depth as it holds no other ``/``).
- A path is selected when it matches an include (or none is given) and no exclude.

Each set of patterns is compiled once into one regular expression. A tree records its patterns
in local git config (``selenite.include``, ``selenite.exclude``, one value per pattern), so
``get`` (and whatever else brings a version's content) fetches the same selection later; no
pattern recorded selects everything.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from selenite import gitrepo
from selenite.errors import FatalError

INCLUDE_KEY = "selenite.include"
EXCLUDE_KEY = "selenite.exclude"
_GLOB_CHARS = frozenset("*?")


def is_glob(text: str) -> bool:
    """True when ``text`` holds a wildcard (``get`` tells a pattern from a plain path by this)."""
    return any(c in _GLOB_CHARS for c in text)


def pattern_problem(pattern: str) -> str | None:
    """Why ``pattern`` can never match a manifest path (None when it can)."""
    body = pattern.removeprefix("/").removesuffix("/")
    if not body:
        return "is empty"
    if "\0" in pattern or "\n" in pattern:
        return "holds a NUL or newline"
    if any(seg in ("", ".", "..") for seg in body.split("/")):
        return "has an empty, '.' or '..' segment (manifest paths have none)"
    return None


def _segment(seg: str) -> str:
    return "".join("[^/]*" if c == "*" else "[^/]" if c == "?" else re.escape(c) for c in re.sub(r"\*+", "*", seg))


def translate(pattern: str) -> str:
    """The regular expression (for ``fullmatch``) of one checked pattern."""
    anchored = pattern.startswith("/")
    body = pattern.strip("/")
    segs = body.split("/")
    anywhere = not anchored and len(segs) == 1
    if pattern.endswith("/"):
        segs.append("**")
    out = "(?:.*/)?" if anywhere else ""
    for i, seg in enumerate(segs):
        last = i == len(segs) - 1
        if seg == "**":
            out += ".+" if last else "(?:[^/]*/)*"
        else:
            out += _segment(seg) + ("" if last else "/")
    return out


def compile_pattern(pattern: str, what: str) -> re.Pattern[str]:
    """One pattern's regular expression (for ``fullmatch``); a pattern that can match no path is
    refused, named as ``what`` (its option)."""
    problem = pattern_problem(pattern)
    if problem is not None:
        raise FatalError(f"{what} {pattern!r} {problem}")
    return re.compile(translate(pattern), re.DOTALL)


def compile_patterns(patterns: Sequence[str], what: str) -> re.Pattern[str] | None:
    """One regular expression matching what any of ``patterns`` matches; None for no pattern."""
    for p in patterns:
        compile_pattern(p, what)  # checked one by one, so the refusal names the pattern
    if not patterns:
        return None
    return re.compile("|".join(f"(?:{translate(p)})" for p in patterns), re.DOTALL)


@dataclass(frozen=True)
class Selection:
    """Include and exclude patterns, compiled; call it with a manifest path."""

    includes: tuple[str, ...] = ()
    excludes: tuple[str, ...] = ()
    _inc: re.Pattern[str] | None = field(init=False, repr=False, compare=False)
    _exc: re.Pattern[str] | None = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_inc", compile_patterns(self.includes, "--include"))
        object.__setattr__(self, "_exc", compile_patterns(self.excludes, "--exclude"))

    @property
    def everything(self) -> bool:
        """No pattern: every path is selected."""
        return not self.includes and not self.excludes

    def __call__(self, path: str) -> bool:
        if self._inc is not None and self._inc.fullmatch(path) is None:
            return False
        return self._exc is None or self._exc.fullmatch(path) is None

    def describe(self) -> str:
        """The patterns as options, for messages (``--include 'd1/*' --exclude '*.bam'``)."""
        return " ".join([*(f"--include {p!r}" for p in self.includes), *(f"--exclude {p!r}" for p in self.excludes)])


def selected(root: Path) -> Selection:
    """The selection the tree at ``root`` records (everything when it records none). A pattern
    someone broke by hand in git config is refused with the key to fix."""
    recorded = gitrepo.config_values(root, "selenite")  # one git call: status asks too
    try:
        return Selection(tuple(recorded.get("include", ())), tuple(recorded.get("exclude", ())))
    except FatalError as e:
        raise FatalError(f"git config of {root}: {e} (fix it with `git config --unset-all {INCLUDE_KEY}` "
                         f"or `git config --unset-all {EXCLUDE_KEY}`)") from None


def record(root: Path, selection: Selection) -> None:
    """Record the selection in the tree's local git config (replacing any recorded before)."""
    gitrepo.config_replace_all(root, INCLUDE_KEY, selection.includes)
    gitrepo.config_replace_all(root, EXCLUDE_KEY, selection.excludes)
