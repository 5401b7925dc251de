"""Every Git call selenite makes, in one place (GitPython runs the ``git`` binary for us).

Queries on the current repository keep the caller's ``GIT_*`` environment (inside a hook,
``GIT_INDEX_FILE`` matters); only ``init`` of a new repository strips it.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import BinaryIO

import git
from git.exc import GitCommandError, InvalidGitRepositoryError, NoSuchPathError

from selenite.errors import FatalError, NotAWorkingTree

TRAILER_REGISTRY = "Selenite-Registry"
TRAILER_VERSION = "Selenite-Version"
_TRAILER_RE = re.compile(r"^([A-Za-z0-9-]+):[ \t]*(.*?)\s*$")


def _git(root: Path) -> git.Git:
    return git.Git(str(root))


def _run(root: Path, *args: str, input_bytes: bytes | None = None, env: dict[str, str] | None = None) -> bytes:
    """Run ``git <args>`` in ``root``; return raw stdout. Failures become one-line ``FatalError``s."""
    try:
        out = _git(root).execute(
            ["git", *args],
            stdout_as_string=False,
            istream=None if input_bytes is None else _stdin(input_bytes),
            env=env,
        )
    except GitCommandError as e:
        err = (e.stderr or "").strip().replace("\n", " ")
        verb = next((a for a in args if not a.startswith("-")), args[0])
        raise FatalError(f"git {verb} failed: {err or e}") from None
    except FileNotFoundError as e:  # git missing, or root vanished
        raise FatalError(f"cannot run git in {root}: {e.strerror}") from None
    return out if isinstance(out, bytes) else str(out).encode()


def _stdin(data: bytes) -> BinaryIO:
    """GitPython hands stdin to Popen, which needs a real file: a spooled temp file."""
    f = tempfile.TemporaryFile()
    f.write(data)
    f.seek(0)
    return f


def split_nul(out: bytes) -> list[str]:
    return [p.decode("utf-8", "surrogateescape") for p in out.split(b"\0") if p]


def find_root(cwd: Path) -> Path:
    """The top of the working tree containing ``cwd``."""
    try:
        repo = git.Repo(str(cwd), search_parent_directories=True)
    except (InvalidGitRepositoryError, NoSuchPathError):
        raise NotAWorkingTree(f"{cwd} is not inside a git working tree (clone one with `selenite clone`)") from None
    if repo.working_tree_dir is None:
        raise NotAWorkingTree(f"{cwd} is inside a bare git repository, not a working tree")
    return Path(repo.working_tree_dir).absolute()


def git_dir(root: Path) -> Path:
    return Path(_run(root, "rev-parse", "--absolute-git-dir").decode().strip())


def common_dir(root: Path) -> Path:
    out = _run(root, "rev-parse", "--git-common-dir").decode().strip()
    p = Path(out)
    return p if p.is_absolute() else (root / p).resolve()


def init(path: Path) -> None:
    """``git init`` a new repository (with a clean environment: it is not the caller's repo)."""
    env = {k: v for k, v in os.environ.items() if not (k.startswith("GIT_") and k not in _IDENTITY_ENV)}
    try:
        git.Repo.init(str(path), env=env)
    except GitCommandError as e:
        raise FatalError(f"git init failed in {path}: {(e.stderr or '').strip()}") from None


_IDENTITY_ENV = {
    "GIT_AUTHOR_NAME", "GIT_AUTHOR_EMAIL", "GIT_COMMITTER_NAME", "GIT_COMMITTER_EMAIL",
    "GIT_CONFIG_NOSYSTEM", "GIT_TEMPLATE_DIR", "GIT_CONFIG_GLOBAL",
}


def ls_files(root: Path, pathspecs: Sequence[str] = ()) -> list[str]:
    """What Git sees: tracked paths (deleted ones included) plus untracked, not-ignored files."""
    args = ["ls-files", "-z", "--cached", "--others", "--exclude-standard"]
    if pathspecs:
        args += ["--", *pathspecs]
    paths = split_nul(_run(root, *args))
    # A path both in the index and (impossible) untracked would repeat; unmerged entries repeat too.
    return list(dict.fromkeys(paths))


def tracked_files(root: Path) -> list[str]:
    return list(dict.fromkeys(split_nul(_run(root, "ls-files", "-z", "--cached"))))


def in_index(root: Path, paths: Sequence[str]) -> list[str]:
    """Which of ``paths`` the index holds (``GIT_INDEX_FILE`` kept: inside a hook, the index the
    commit is made from). Paths are taken literally, never as patterns."""
    if not paths:
        return []
    return list(dict.fromkeys(split_nul(_run(root, "--literal-pathspecs", "ls-files", "-z", "--cached", "--", *paths))))


def stage(root: Path, paths: Sequence[str]) -> None:
    """``git add`` exactly these paths (taken literally)."""
    if paths:
        _run(root, "--literal-pathspecs", "add", "--", *paths)


def restage_unchanged(root: Path, staged: Mapping[str, bytes]) -> None:
    """Re-add each path whose index entry is exactly the blob of the given bytes (say a pointer the
    file held until selenite wrote its content there): the index keeps the same blob, only its
    record of the file's size and times is renewed. Without this, `git status` would call the file
    modified for its new size alone, without asking the filter."""
    if not staged:
        return
    entries = split_nul(_run(root, "--literal-pathspecs", "ls-files", "-s", "-z", "--", *staged))
    same = []
    for rec in entries:
        meta, _, path = rec.partition("\t")
        sha = meta.split(" ")[1]
        if path in staged and _blob_id(staged[path], "sha1" if len(sha) == 40 else "sha256") == sha:
            same.append(path)
    stage(root, same)


def add_all(root: Path, paths: Sequence[str] = ()) -> None:
    """Stage everything (or ``paths``), deletions included."""
    _run(root, "add", "--all", "--", *(paths or ["."]))


def commit(root: Path, message: str, *, allow_empty: bool = False, verify: bool = False) -> str:
    """Commit the index; return the new commit's sha. selenite's own commits skip the hooks
    (what it commits is links it has just made itself) unless ``verify``. A machine without a
    configured identity gets a fallback author, so selenite's own commits never fail on it."""
    args = ["-c", "user.useConfigOnly=false"]
    if not _config(root, "user.email") and not os.environ.get("GIT_AUTHOR_EMAIL") and not os.environ.get("EMAIL"):
        args += ["-c", "user.email=selenite@localhost"]
    if not _config(root, "user.name") and not os.environ.get("GIT_AUTHOR_NAME"):
        args += ["-c", "user.name=selenite"]
    args += ["commit", "-q", "-F", "-"]
    if allow_empty:
        args.append("--allow-empty")
    if not verify:
        args.append("--no-verify")
    _run(root, *args, input_bytes=message.encode())
    return head(root) or ""


def head(root: Path) -> str | None:
    try:
        return _git(root).execute(["git", "rev-parse", "-q", "--verify", "HEAD^{commit}"]).strip() or None
    except GitCommandError:
        return None


def has_more_than_one_commit(root: Path) -> bool:
    """True when HEAD has a parent (the repo holds work beyond a first commit)."""
    try:
        _git(root).execute(["git", "rev-parse", "-q", "--verify", "HEAD^1^{commit}"])
        return True
    except GitCommandError:
        return False


def tag_name_problem(name: str) -> str | None:
    """Why ``name`` cannot be a version's Git tag (None when it can): what ``git check-ref-format``
    refuses, and a leading '-' (git commands would read the name as an option)."""
    if name.startswith("-"):
        return "starts with '-'"
    if name == "@" or name == "HEAD" or name.endswith("_HEAD"):
        return "is '@' or a name Git gives its own refs (HEAD, FETCH_HEAD, ...)"
    try:
        git.Git().execute(["git", "check-ref-format", f"refs/tags/{name}"])
    except (GitCommandError, ValueError):  # ValueError: a NUL byte in the name
        return "is not a valid Git tag name (git check-ref-format)"
    return None


def tag(root: Path, name: str, commit_sha: str) -> bool:
    """Tag ``commit_sha`` as ``name`` when that is a valid and free tag name; True if tagged.
    ``update-ref`` with an empty old value: the name is never parsed as an option, and a tag that
    exists already is left alone."""
    if tag_name_problem(name) is not None:
        return False
    try:
        _git(root).execute(["git", "update-ref", "-m", "selenite: version tag", f"refs/tags/{name}", commit_sha, ""])
    except GitCommandError:
        return False  # taken
    return True


def _config(root: Path, key: str) -> str | None:
    try:
        return _git(root).execute(["git", "config", "--get", key]).strip() or None
    except GitCommandError:
        return None


def config_get(root: Path, key: str) -> str | None:
    return _config(root, key)


def config_set(root: Path, key: str, value: str) -> None:
    _run(root, "config", "--local", key, value)


def version_message(title: str, url: str, project: str, asset: str, version: str, body: str = "") -> str:
    """A commit message carrying the origin trailers (so a plain `git clone` still knows it)."""
    parts = [title.strip()]
    if body.strip():
        parts.append(body.strip())
    parts.append(f"{TRAILER_REGISTRY}: {url}\n{TRAILER_VERSION}: {project}/{asset}/{version}")
    return "\n\n".join(parts) + "\n"


def parse_trailers(message: str) -> dict[str, str]:
    """``Key: value`` lines of the message's last paragraph."""
    paras = [p for p in message.strip().split("\n\n") if p.strip()]
    if not paras:
        return {}
    out: dict[str, str] = {}
    for line in paras[-1].splitlines():
        m = _TRAILER_RE.match(line)
        if m:
            out[m.group(1)] = m.group(2)
    return out


def last_version_commit(root: Path, rev: str = "HEAD") -> tuple[str, dict[str, str]] | None:
    """The newest commit (from ``rev``) that selenite made for a version, with its trailers."""
    if head(root) is None:
        return None
    out = _run(root, "log", "-1", "--format=%H%x00%B", f"--grep=^{TRAILER_VERSION}: ", rev).decode("utf-8", "replace")
    if not out.strip():
        return None
    sha, _, message = out.partition("\0")
    trailers = parse_trailers(message)
    if TRAILER_VERSION not in trailers:
        return None
    return sha.strip(), trailers


def _blob_id(data: bytes, algo: str) -> str:
    h = hashlib.new(algo)
    h.update(b"blob %d\0" % len(data))
    h.update(data)
    return h.hexdigest()


def link_texts(root: Path, rev: str, known: Mapping[str, str] | None = None) -> dict[str, str]:
    """{path: link text} of every symlink in commit ``rev``.

    ``known`` holds link texts already read from the working tree: where one hashes to the blob
    the commit has, it is taken as is, so only changed links are read from git (``ls-tree`` plus at
    most one ``cat-file --batch`` for the rest, whatever the size of the tree).
    """
    texts: dict[str, str] = {}
    wanted: dict[str, list[str]] = {}
    for entry in _run(root, "ls-tree", "-r", "-z", "--full-tree", rev).split(b"\0"):
        if not entry.startswith(b"120000 "):
            continue
        meta, _, bpath = entry.partition(b"\t")
        sha = meta.split()[2].decode()
        path = bpath.decode("utf-8", "surrogateescape")
        text = known.get(path) if known is not None else None
        if text is not None:
            algo = "sha1" if len(sha) == 40 else "sha256"
            if _blob_id(text.encode("utf-8", "surrogateescape"), algo) == sha:
                texts[path] = text
                continue
        wanted.setdefault(sha, []).append(path)
    for sha, data in _cat_blobs(root, wanted).items():
        for path in wanted[sha]:
            texts[path] = data.decode("utf-8", "surrogateescape")
    return texts


def _cat_blobs(root: Path, shas: Iterable[str]) -> dict[str, bytes]:
    """{sha: content} of these blobs, in one ``cat-file --batch``."""
    shas = list(dict.fromkeys(shas))
    if not shas:
        return {}
    out = _run(root, "cat-file", "--batch", input_bytes="".join(f"{s}\n" for s in shas).encode())
    blobs: dict[str, bytes] = {}
    pos = 0
    for sha in shas:
        nl = out.index(b"\n", pos)
        size = int(out[pos:nl].split()[2])
        blobs[sha] = out[nl + 1 : nl + 1 + size]
        pos = nl + 1 + size + 1
    return blobs


def small_file_blobs(root: Path, max_size: int, index: bool = True) -> list[bytes]:
    """The contents of the regular-file blobs of HEAD (and of the index) that are at most
    ``max_size`` bytes (three git calls, whatever the size of the tree)."""
    shas: set[str] = set()
    for rec in _run(root, "ls-files", "-s", "-z").split(b"\0") if index else ():
        if rec.startswith(b"100"):
            shas.add(rec.split(b" ", 2)[1].decode())
    if head(root) is not None:
        for rec in _run(root, "ls-tree", "-r", "-z", "--full-tree", "HEAD").split(b"\0"):
            if rec.startswith(b"100"):
                shas.add(rec.split(b" ", 3)[2].split(b"\t", 1)[0].decode())
    if not shas:
        return []
    checked = _run(root, "cat-file", "--batch-check=%(objectname) %(objectsize)",
                   input_bytes="".join(f"{s}\n" for s in shas).encode())
    small = [sha for sha, size in (line.split() for line in checked.decode().splitlines() if line.count(" ") == 1)
             if size.isdigit() and int(size) <= max_size]
    return list(_cat_blobs(root, small).values()) if small else []


def tag_refs(root: Path) -> list[str]:
    """Every tag (``refs/tags/...``) of the repository."""
    return _run(root, "for-each-ref", "--format=%(refname)", "refs/tags").decode("utf-8", "surrogateescape").splitlines()


def _entries(root: Path, revs: Sequence[str], index: bool, paths: Sequence[str] = ()) -> list[tuple[str, str, str]]:
    """(mode, blob id, path) of the files of the commits ``revs`` and (``index``) of the index."""
    # ls-tree: "<mode> <type> <id>\t<path>"; ls-files -s: "<mode> <id> <stage>\t<path>".
    listings = [(2, _run(root, "ls-tree", "-r", "-z", "--full-tree", rev, "--", *paths)) for rev in revs]
    if index:
        listings.append((1, _run(root, "ls-files", "-s", "-z", "--", *paths)))
    out = []
    for at, listing in listings:
        for entry in listing.split(b"\0"):
            meta, tab, bpath = entry.partition(b"\t")
            fields = meta.split()
            if tab and len(fields) == 3:
                out.append((fields[0].decode(), fields[at].decode(), bpath.decode("utf-8", "surrogateescape")))
    return out


def symlinks_in(root: Path, revs: Sequence[str], index: bool = False) -> set[tuple[str, str]]:
    """(path, link text) of every symlink of the commits ``revs`` and (``index``) of the index."""
    found = {(sha, path) for mode, sha, path in _entries(root, revs, index) if mode == "120000"}
    blobs = _cat_blobs(root, (sha for sha, _ in found))
    return {(path, blobs[sha].decode("utf-8", "surrogateescape")) for sha, path in found}


def file_versions(root: Path, revs: Sequence[str], path: str, index: bool = False) -> list[bytes]:
    """The distinct contents of the file ``path`` in the commits ``revs`` and (``index``) the index."""
    shas = [sha for mode, sha, p in _entries(root, revs, index, [path]) if p == path and mode != "120000"]
    return list(_cat_blobs(root, shas).values())


def is_inside(path: Path, roots: Iterable[Path]) -> bool:
    return any(path == r or r in path.parents for r in roots)
