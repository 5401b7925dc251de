"""Git plumbing for version history: commits built without a working tree, refs moved, merges.

Version commits (``selenite.history``) are written with one ``git fast-import`` run per batch:
the blobs go inline, every path is quoted (so no name is ever read as anything but a path), and
each commit names its tree completely (``deleteall``), never inheriting a file from its parent.
Nothing here looks at the working tree except ``merge``, ``checkout_detached`` and the index
functions, which say so.
"""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from selenite.gitrepo import MANY_OBJECTS_ENV, _execute, _identity_fallbacks, _run, _text, git_dir, split_nul

MODE_FILE = "100644"
MODE_LINK = "120000"


@dataclass(frozen=True)
class Entry:
    """One file of a commit's tree: its mode (``MODE_FILE``, ``MODE_LINK``), path and bytes."""

    mode: str
    path: str
    data: bytes


@dataclass(frozen=True)
class CommitSpec:
    """A commit to build. ``parent``: a commit id, the index (int) of an earlier spec in the same
    batch, or None for a root commit. ``when``: seconds since the epoch, UTC."""

    entries: Sequence[Entry]
    author: str
    email: str
    when: int
    message: str
    parent: str | int | None


_PLAIN = re.compile(rb'[ !#-\[\]-~]*')  # printable ASCII but the quote and the backslash: nothing to escape


def _quote(path: str) -> bytes:
    """A path as fast-import's C-style quoted string: every byte that is not printable ASCII, and
    the quote and backslash, escaped in octal, so no path can end a line or start a command."""
    raw = path.encode("utf-8", "surrogateescape")
    if _PLAIN.fullmatch(raw):  # most paths: one regex match instead of a Python step per byte
        return b'"' + raw + b'"'
    out = bytearray(b'"')
    for b in raw:
        out += b"\\%03o" % b if b < 0x20 or b >= 0x7F or b in (0x22, 0x5C) else bytes((b,))
    return bytes(out + b'"')


def _ident(name: str, email: str, when: int) -> bytes:
    # The caller cleans name and email (no '<', '>' or newline): they come from the registry.
    return f"{name} <{email}> {when} +0000".encode()


def _data(payload: bytes) -> bytes:
    return b"data %d\n" % len(payload) + payload + b"\n"


def build_commits(root: Path, specs: Sequence[CommitSpec], refs: Sequence[str] | None = None) -> list[str]:
    """Write ``specs`` (parents before children) into the repository at ``root`` in one
    ``fast-import`` run; return their commit ids in order. With ``refs`` (one full ref name per
    spec, none of them existing) each commit is left at its ref, set by the same run; without, no
    ref is left behind."""
    if not specs:
        return []
    scratch = "refs/selenite/fast-import"
    stream = bytearray(b"feature done\n")
    for n, spec in enumerate(specs, start=1):
        ref = scratch if refs is None else refs[n - 1]
        stream += b"reset " + ref.encode() + b"\n"  # a fresh branch: no implicit parent
        stream += b"commit " + ref.encode() + b"\nmark :%d\n" % n
        ident = _ident(spec.author, spec.email, spec.when)
        stream += b"author " + ident + b"\ncommitter " + ident + b"\n"
        stream += _data(spec.message.encode())
        if isinstance(spec.parent, int):
            if not 0 <= spec.parent < n - 1:
                raise ValueError("a parent in the batch must come before its child")
            stream += b"from :%d\n" % (spec.parent + 1)
        elif spec.parent is not None:
            stream += b"from " + spec.parent.encode() + b"\n"
        stream += b"deleteall\n"
        for e in spec.entries:
            stream += f"M {e.mode} inline ".encode() + _quote(e.path) + b"\n" + _data(e.data)
        stream += b"\n"
    stream += b"done\n"
    gdir = git_dir(root)
    fd, marks = tempfile.mkstemp(prefix="selenite-marks-", dir=gdir)
    os.close(fd)
    try:
        _run(root, "fast-import", "--quiet", "--date-format=raw", f"--export-marks={marks}",
             input_bytes=bytes(stream), env=MANY_OBJECTS_ENV)
        found = dict(line.split(" ", 1) for line in Path(marks).read_text().split("\n") if line)
    finally:
        os.unlink(marks)
        if refs is None:
            _execute(root, ["update-ref", "-d", scratch])
    return [found[f":{n}"].strip() for n in range(1, len(specs) + 1)]


def write_blobs(root: Path, datas: Sequence[bytes]) -> list[str]:
    """Store ``datas`` as blobs in one ``fast-import`` run (one pack, not a loose object file
    each); return their ids in order."""
    if not datas:
        return []
    stream = bytearray(b"feature done\n")
    for n, data in enumerate(datas, start=1):
        stream += b"blob\nmark :%d\n" % n + _data(data)
    stream += b"done\n"
    fd, marks = tempfile.mkstemp(prefix="selenite-marks-", dir=git_dir(root))
    os.close(fd)
    try:
        _run(root, "fast-import", "--quiet", f"--export-marks={marks}", input_bytes=bytes(stream), env=MANY_OBJECTS_ENV)
        found = dict(line.split(" ", 1) for line in Path(marks).read_text().split("\n") if line)
    finally:
        os.unlink(marks)
    return [found[f":{n}"].strip() for n in range(1, len(datas) + 1)]


def add_paths(root: Path, paths: Sequence[str]) -> None:
    """``git add --all`` of exactly these paths (taken literally, given on stdin: any number)."""
    if paths:
        _run(root, "--literal-pathspecs", "add", "--all", "--pathspec-from-file=-", "--pathspec-file-nul",
             input_bytes=b"".join(p.encode("utf-8", "surrogateescape") + b"\0" for p in paths), env=MANY_OBJECTS_ENV)


def with_filter(root: Path, paths: Sequence[str], driver: str) -> set[str]:
    """Those of ``paths`` whose ``filter`` attribute is ``driver`` (``git check-attr``)."""
    if not paths:
        return set()
    out = split_nul(_run(root, "check-attr", "-z", "--stdin", "filter",
                         input_bytes=b"".join(p.encode("utf-8", "surrogateescape") + b"\0" for p in paths)))
    return {out[i] for i in range(0, len(out) - 2, 3) if out[i + 2] == driver}


def commit_tree(root: Path, tree: str, parent: str | None, message: str) -> str:
    """A commit of ``tree`` (``git commit-tree``), its author as ``gitrepo.commit`` gives it; no
    ref moves. Unlike `git commit` it never refreshes the index: no file is read again."""
    args = [*_identity_fallbacks(root), "commit-tree", tree, *(["-p", parent] if parent else []), "-F", "-"]
    return _run(root, *args, input_bytes=message.encode()).decode().strip()


def resolve(root: Path, rev: str) -> str | None:
    """The commit id ``rev`` names (a full ref name or an id), None when there is none."""
    status, out, _ = _execute(root, ["rev-parse", "-q", "--verify", "--end-of-options", f"{rev}^{{commit}}"])
    return _text(out) if status == 0 else None


def tree_of(root: Path, rev: str) -> str:
    return _run(root, "rev-parse", "--verify", "--end-of-options", f"{rev}^{{tree}}").decode().strip()


def set_ref(root: Path, ref: str, sha: str, reason: str) -> None:
    """Point the full ref name ``ref`` (``refs/...`` or ``HEAD``) at ``sha``, with a reflog line."""
    _run(root, "update-ref", "-m", f"selenite: {reason}", ref, sha)


def is_ancestor(root: Path, older: str, newer: str) -> bool:
    status, _, _ = _execute(root, ["merge-base", "--is-ancestor", older, newer])
    return status == 0


def merge_base(root: Path, a: str, b: str) -> str | None:
    """A best common ancestor of two commits; None for unrelated histories."""
    status, out, _ = _execute(root, ["merge-base", a, b])
    return _text(out) if status == 0 else None


def reset_keep(root: Path, sha: str) -> tuple[int, str]:
    """``git reset --keep sha``: the branch, index and tree move; local changes to paths the move
    does not touch are kept (git refuses the rest)."""
    status, out, err = _execute(root, ["reset", "-q", "--keep", sha, "--"])
    return status, (out.decode("utf-8", "replace") + err).strip()


def index_tree(root: Path) -> str:
    """The tree the index holds (``write-tree``)."""
    return _run(root, "write-tree").decode().strip()


def reset_index_to(root: Path, sha: str, reason: str) -> None:
    """Point HEAD (its branch) at commit ``sha`` and make the index hold its tree with the working
    tree's stat data (which is not touched: the caller made it hold exactly that tree): one ``git
    reset -q``, what ``update-ref``, ``read-tree`` and ``update-index --refresh`` did in three."""
    _run(root, "reset", "-q", sha, "--", env={"GIT_REFLOG_ACTION": f"selenite: {reason}"})


def changed_paths(root: Path, a: str, b: str) -> list[str]:
    """Paths that differ between two commits (no rename detection: every path once)."""
    return split_nul(_run(root, "diff", "--no-renames", "--name-only", "-z", a, b, "--"))


def dirty_paths(root: Path) -> list[str]:
    """Tracked paths whose index or working tree differs from HEAD (what `git merge` and `git
    checkout` protect), unmerged ones included."""
    _execute(root, ["update-index", "-q", "--refresh"])  # stat-only differences are no edits
    out = _run(root, "diff-index", "--name-only", "-z", "HEAD", "--")
    return split_nul(out)


def merge(root: Path, sha: str, message: str, *, ff_only: bool) -> tuple[int, str]:
    """``git merge`` of commit ``sha`` into HEAD (the working tree and index move, as git does);
    (exit status, git's own output for the user)."""
    args = [*_identity_fallbacks(root), "merge", "--no-edit", "-m", message, *(["--ff-only"] if ff_only else []), sha]
    status, out, err = _execute(root, args)
    return status, (out.decode("utf-8", "replace") + err).strip()


def unmerged(root: Path) -> dict[str, dict[int, tuple[str, str]]]:
    """{path: {stage: (mode, blob id)}} of the index's unmerged entries (after a conflicted merge)."""
    found: dict[str, dict[int, tuple[str, str]]] = {}
    for rec in split_nul(_run(root, "ls-files", "-u", "-z")):
        meta, _, path = rec.partition("\t")
        mode, sha, stage = meta.split(" ")
        found.setdefault(path, {})[int(stage)] = (mode, sha)
    return found


def checkout_detached(root: Path, sha: str) -> tuple[int, str]:
    """``git checkout --detach sha``: the working tree and index move to that commit."""
    status, out, err = _execute(root, ["checkout", "-q", "--detach", sha, "--"])
    return status, (out.decode("utf-8", "replace") + err).strip()


def cat_blob(root: Path, sha: str) -> bytes:
    return _run(root, "cat-file", "blob", sha)


def merge_file(root: Path, ours: bytes, base: bytes, theirs: bytes, labels: tuple[str, str, str]) -> bytes | None:
    """Git's three-way merge of three texts (``git merge-file``: its conflict markers, labelled
    ours, base, theirs); None when Git cannot merge them (binary content)."""
    gdir = git_dir(root)
    paths = []
    try:
        for data in (ours, base, theirs):
            fd, name = tempfile.mkstemp(prefix="selenite-merge-", dir=gdir)
            with os.fdopen(fd, "wb") as f:
                f.write(data)
            paths.append(name)
        status, out, _ = _execute(root, ["merge-file", "-p", "-L", labels[0], "-L", labels[1], "-L", labels[2],
                                         "--", *paths])
    finally:
        for name in paths:
            os.unlink(name)
    return out if status >= 0 and status < 128 else None


def set_index_entries(root: Path, entries: Sequence[tuple[str, str, int, str]]) -> None:
    """Write index entries ``(mode, blob id, stage, path)``; mode "0" removes the path's entry."""
    lines = b"".join(f"{mode} {sha} {stage}\t".encode() + path.encode("utf-8", "surrogateescape") + b"\0"
                     for mode, sha, stage, path in entries)
    _run(root, "update-index", "-z", "--index-info", input_bytes=lines)
