"""The listings the pre-commit check reads, asked of git at once.

The check starts every listing it needs (``ls-files``, ``diff-index``, ``diff-files``) as soon as it
begins, so git works on one core while Python works on the other; each answer is read when first
needed. Inside a hook git's environment is kept as it is: ``git commit -a`` points
``GIT_INDEX_FILE`` at a temporary index, and that index is the commit being made.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
from pathlib import Path
from typing import NamedTuple

from selenite.errors import FatalError
from selenite.gitrepo import _execute, split_nul, start

_ARGS = {
    "index": ("ls-files", "-s", "-z"),
    "untracked": ("ls-files", "-z", "--others", "--exclude-standard"),
    "staged": ("diff-index", "--cached", "-z", "--no-renames", "HEAD"),
    "changed": ("diff-files", "-z", "--name-only"),
}
LINK_MODE = "120000"  # a symlink's mode in git's listings


class IndexEntry(NamedTuple):
    mode: str
    sha: str


class Staged(NamedTuple):
    """One path of ``git diff-index --cached``: what the commit changes against HEAD."""

    old_mode: str
    new_mode: str
    old_sha: str
    new_sha: str
    status: str


def index_entry(meta: str | None) -> IndexEntry | None:
    """The (mode, blob id) of an ``ls-files -s`` record's "<mode> <id> <stage>" part."""
    if meta is None:
        return None
    mode, sha, _stage = meta.split(" ")
    return IndexEntry(mode, sha)


class Listings:
    """``names`` of the listings above, started in parallel in ``top`` (see the module docstring)."""

    def __init__(self, top: Path, *names: str) -> None:
        self._top = top
        self._outs: dict[str, str] = {}
        # The listings first, then the question that waits: git lists while rev-parse answers.
        self._procs = {name: start(top, _ARGS[name]) for name in names}
        status, out, _err = _execute(top, ["rev-parse", "--absolute-git-dir", "--verify", "-q", "HEAD^{commit}"])
        lines = os.fsdecode(out).splitlines()
        if not lines:
            raise FatalError(f"{top} is not inside a git working tree")
        self.git_dir = Path(lines[0])
        self.has_head = status == 0 and len(lines) > 1
        if not self.has_head and "staged" in self._procs:  # a first commit: nothing to compare with
            self._reap(self._procs.pop("staged"))

    def __del__(self) -> None:
        # A listing nobody read (the check stopped early): its git must not outlive us, blocked on a full pipe.
        for name, proc in getattr(self, "_procs", {}).items():
            if name not in self._outs:
                self._reap(proc)

    @staticmethod
    def _reap(proc: subprocess.Popen[bytes]) -> None:
        if proc.returncode is None:
            with contextlib.suppress(OSError):
                proc.kill()
            with contextlib.suppress(OSError, subprocess.SubprocessError):
                proc.communicate()

    def _out(self, name: str) -> str:
        if name in self._outs:
            return self._outs[name]
        proc = self._procs.get(name)
        if proc is None:
            return ""
        out, err = proc.communicate()
        if proc.returncode != 0:
            msg = os.fsdecode(err).strip().splitlines()
            raise FatalError(f"git {' '.join(_ARGS[name])} failed: {msg[-1] if msg else proc.returncode}")
        self._outs[name] = os.fsdecode(out)
        return self._outs[name]

    def close(self) -> None:
        """Reap the listings nobody asked for."""
        for name in self._procs:
            self._out(name)

    def raw(self, name: str) -> str:
        return self._out(name)

    def index(self) -> dict[str, str]:
        """path -> "<mode> <sha> <stage>" for every index entry."""
        entries: dict[str, str] = {}
        for rec in split_nul(self._out("index")):
            meta, _, path = rec.partition("\t")
            entries.setdefault(path, meta)  # conflict stages: the first is enough
        return entries

    def index_meta(self, wanted: dict[str, None]) -> dict[str, str]:
        """path -> "<mode> <sha> <stage>" for the wanted paths only (cheap on big indexes)."""
        entries: dict[str, str] = {}
        for rec in split_nul(self._out("index")):
            meta, _, path = rec.partition("\t")
            if path in wanted:
                entries.setdefault(path, meta)
        return entries

    def changed(self) -> list[str]:
        """Tracked paths whose working-tree file differs from the index (git's own stat check)."""
        return split_nul(self._out("changed"))

    def untracked(self) -> list[str]:
        return split_nul(self._out("untracked"))

    def staged(self) -> dict[str, Staged]:
        """What the commit changes against HEAD (empty for a first commit)."""
        recs = split_nul(self._out("staged"))
        changes: dict[str, Staged] = {}
        for meta, path in zip(recs[::2], recs[1::2], strict=False):
            old_mode, new_mode, old_sha, new_sha, status = meta.lstrip(":").split(" ")
            changes[path] = Staged(old_mode, new_mode, old_sha, new_sha, status)
        return changes

