"""Every Git call selenite makes, in one place.

Queries on the current repository keep the caller's ``GIT_*`` environment (inside a hook,
``GIT_INDEX_FILE`` matters); only ``init`` of a new repository strips it. A git failure becomes a
one-line ``FatalError`` in ``_run``; ``_query`` is the same call for questions whose "no" is a
failing exit (an unset config key, no HEAD). The parallel listings the pre-commit check reads are
in ``gitrepo.listings``.

GitPython starts every git process (``start``: C locale, stdin closed unless given). It is imported
on the first git call, not with this module: the import costs ~35 ms and a ``git version`` run,
which commands that never call git (``--help``, ``ls``, ``log``, ``whoami``...) should not pay.
"""

from __future__ import annotations

import hashlib
import os
import re
import subprocess
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from selenite.errors import FatalError, NotAWorkingTree
from selenite.gitrepo.environment import may_be_in_repository, without_repository_variables

TRAILER_REGISTRY = "Selenite-Registry"
TRAILER_VERSION = "Selenite-Version"
_TRAILER_RE = re.compile(r"^([A-Za-z0-9-]+):[ \t]*(.*?)\s*$")


def _git(root: Path | None) -> Any:
    """GitPython's runner for ``root`` (None: the current directory, for repository-free calls).

    GitPython runs git in the *process's* current directory when ``root`` cannot be entered, which
    would answer for whatever repository that is: a vanished ``root`` is refused here instead."""
    if root is not None and not os.path.isdir(root):
        raise FatalError(f"cannot run git in {root}: no such folder")
    import git  # noqa: PLC0415 -- ~35 ms and a `git version` run: paid by commands that call git only

    return git.Git(None if root is None else os.fspath(root))


def start(root: Path | None, args: Sequence[str], *, stdin: bool = False,
          env: Mapping[str, str] | None = None) -> subprocess.Popen[bytes]:
    """``git <args>`` started in ``root`` through GitPython, stdout and stderr piped; stdin piped
    only when asked; ``env``: variables set on top of the process's environment. The caller owns
    the process (reads it, waits for it); a git that cannot be started is a ``FatalError``."""
    runner = _git(root)
    from git.exc import GitCommandNotFound  # noqa: PLC0415 -- loaded with GitPython above

    try:
        handle = runner.execute(["git", *args], as_process=True, istream=subprocess.PIPE if stdin else None,
                                env=None if env is None else dict(env))
    except (GitCommandNotFound, OSError) as e:  # git missing
        raise FatalError(f"cannot run git in {root or os.curdir}: {getattr(e, 'strerror', None) or e}") from None
    proc: subprocess.Popen[bytes] = handle.proc
    # GitPython's wrapper terminates its process when garbage-collected; this caller owns the
    # process's whole life (it reads the output and waits), so the wrapper lets go of it.
    handle.proc = None
    return proc


def _execute(root: Path | None, args: Sequence[str], input_bytes: bytes | None = None,
             env: Mapping[str, str] | None = None) -> tuple[int, bytes, str]:
    """(exit status, stdout, stderr) of ``git <args>`` in ``root``. Only a git that cannot be started
    raises (``FatalError``); a failing exit is the caller's to judge."""
    proc = start(root, args, stdin=input_bytes is not None, env=env)
    out, err = proc.communicate(input_bytes)
    return proc.returncode, out, err.decode("utf-8", "replace")


def _run(root: Path, *args: str, input_bytes: bytes | None = None, env: dict[str, str] | None = None) -> bytes:
    """Run ``git <args>`` in ``root``; return raw stdout. Failures become one-line ``FatalError``s."""
    status, out, err = _execute(root, args, input_bytes, env)
    if status != 0:
        verb = next((a for a in args if not a.startswith("-")), args[0])
        raise FatalError(f"git {verb} failed: {err.strip().replace(chr(10), ' ') or f'exit {status}'}")
    return out


# For the git commands that write many objects (add, fast-import): glibc's malloc otherwise hands
# zlib's ~256 KiB deflate state back to the system after every object and takes it again for the
# next (4 brk calls and fresh zeroed pages per object): fast-import of 4,000 small blobs took
# 0.32 s, 0.06 s with this. Other C libraries ignore the variable.
MANY_OBJECTS_ENV = {"MALLOC_TRIM_THRESHOLD_": str(256 << 20)}


def _query(root: Path | None, *args: str) -> bytes | None:
    """stdout of a git question, or None when git answers with a failing exit."""
    status, out, _err = _execute(root, args)
    return out if status == 0 else None


def _text(out: bytes | None) -> str | None:
    """A one-line answer, stripped; None for a failure or an empty answer."""
    value = out.decode("utf-8", "surrogateescape").strip() if out is not None else ""
    return value or None


def split_nul(out: bytes | str) -> list[str]:
    """The records of git's ``-z`` output (file names decoded as the OS does)."""
    text = out if isinstance(out, str) else out.decode("utf-8", "surrogateescape")
    return [p for p in text.split("\0") if p]


def blob_id(data: bytes, algo: str) -> str:
    """The id git gives a blob of ``data`` (``algo``: the repository's object format, sha1 or sha256)."""
    h = hashlib.new(algo)
    h.update(b"blob %d\0" % len(data))
    h.update(data)
    return h.hexdigest()


def blob_ids(datas: Iterable[bytes], algo: str) -> list[str]:
    """``blob_id`` of each of ``datas`` (a scan hashes one link text per path: the hash constructor
    is looked up once)."""
    new = getattr(hashlib, algo)
    return [new(b"blob %d\0%s" % (len(d), d)).hexdigest() for d in datas]


def id_algo(object_id: str) -> str:
    """The object format of a repository, told by the width of one of its ids."""
    return "sha1" if len(object_id) == 40 else "sha256"


def find_root(cwd: Path) -> Path:
    """The top of the working tree containing ``cwd``. Found from ``cwd`` without resolving
    symlinks (``--show-cdup``), so paths shown relative to the command's directory stay short."""
    if not os.path.isdir(cwd):
        raise NotAWorkingTree(f"{cwd} is not inside a git working tree (no such folder)")
    if not may_be_in_repository(cwd):
        raise NotAWorkingTree(f"{cwd} is not inside a git working tree (clone one with `selenite clone`)")
    status, out, _err = _execute(cwd, ["rev-parse", "--is-bare-repository", "--is-inside-git-dir",
                                       "--absolute-git-dir", "--show-cdup"])
    lines = os.fsdecode(out).split("\n")
    if status != 0 or len(lines) < 4:
        raise NotAWorkingTree(f"{cwd} is not inside a git working tree (clone one with `selenite clone`)")
    bare, in_git_dir, git_dir, cdup = lines[:4]
    if bare == "true":
        raise NotAWorkingTree(f"{cwd} is inside a bare git repository, not a working tree")
    if in_git_dir == "true":  # inside the .git folder of a working tree: that tree
        return Path(git_dir).parent
    return Path(os.path.normpath(os.path.join(os.path.abspath(cwd), cdup)))


def toplevel(cwd: Path) -> Path:
    """The top of the working tree containing ``cwd``, as git reports it (what the hook commands use)."""
    top = _text(_query(cwd, "rev-parse", "--show-toplevel"))
    if top is None:
        raise FatalError(f"{cwd} is not inside a git working tree")
    return Path(top)


def git_dir(root: Path) -> Path:
    dot_git = root / ".git"
    if not {"GIT_DIR", "GIT_COMMON_DIR"} & os.environ.keys() and dot_git.is_dir():
        # A working tree's own .git folder: Git's answer (made absolute and real, as it does)
        # without a git process; a push asked this five times.
        return Path(os.path.realpath(dot_git))
    return Path(_run(root, "rev-parse", "--absolute-git-dir").decode().strip())


def common_dir(root: Path) -> Path:
    """The folder holding what all worktrees of a repository share (config, hooks, info/)."""
    dot_git = root / ".git"
    if not {"GIT_DIR", "GIT_COMMON_DIR"} & os.environ.keys() and dot_git.is_dir() \
            and not (dot_git / "commondir").exists():
        return dot_git  # the main worktree's own .git folder: Git's answer without asking it
    out = _run(root, "rev-parse", "--git-common-dir").decode().strip()
    p = Path(out)
    return p if p.is_absolute() else (root / p).resolve()


def init(path: Path) -> None:
    """``git init`` a new repository (with a clean environment: it is not the caller's repo)."""
    with without_repository_variables():
        status, _out, err = _execute(None, ["init", "-q", "--", os.fspath(path)])
    if status != 0:
        raise FatalError(f"git init failed in {path}: {err.strip()}")


# --- identity: what git needs to make selenite's own commits ----------------------------------------

def _identity_fallbacks(root: Path) -> list[str]:
    """``-c`` options giving selenite's own commits an author where neither git config nor the
    environment (GIT_AUTHOR_*, EMAIL: what git itself reads) names one."""
    args = ["-c", "user.useConfigOnly=false"]
    if not config_get(root, "user.email") and not os.environ.get("GIT_AUTHOR_EMAIL") and not os.environ.get("EMAIL"):
        args += ["-c", "user.email=selenite@localhost"]
    if not config_get(root, "user.name") and not os.environ.get("GIT_AUTHOR_NAME"):
        args += ["-c", "user.name=selenite"]
    return args


def ls_files(root: Path, pathspecs: Sequence[str] = ()) -> list[str]:
    """What Git sees: tracked paths (deleted ones included) plus untracked, not-ignored files
    (``pathspecs``: only those at or under these paths)."""
    args = ["ls-files", "-z", "--cached", "--others", "--exclude-standard"]
    if pathspecs:  # paths and folders, taken literally (a file named 'a*' is no pattern)
        args = ["--literal-pathspecs", *args, "--", *pathspecs]
    paths = split_nul(_run(root, *args))
    # A path both in the index and (impossible) untracked would repeat; unmerged entries repeat too.
    return list(dict.fromkeys(paths))


def ls_files_by_user_ignores(root: Path, pathspecs: Sequence[str] = ()) -> list[str]:
    """``ls_files`` ignoring only by the user's own ignore files: the per-folder ``.gitignore``
    files and the global excludes file (``git config --path core.excludesFile``, else Git's default
    ``$XDG_CONFIG_HOME/git/ignore``), never ``.git/info/exclude``, where a hardlink/copy tree
    ignores its data files from Git."""
    excludes = _text(_query(root, "config", "--path", "--get", "core.excludesFile"))
    if excludes is None:
        xdg = os.environ.get("XDG_CONFIG_HOME") or os.path.join(os.path.expanduser("~"), ".config")
        excludes = os.path.join(xdg, "git", "ignore")
    args = ["ls-files", "-z", "--cached", "--others", "--exclude-per-directory=.gitignore"]
    if os.path.isfile(excludes):
        args.append(f"--exclude-from={excludes}")
    if pathspecs:
        args = ["--literal-pathspecs", *args, "--", *pathspecs]
    return list(dict.fromkeys(split_nul(_run(root, *args))))


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
        if path in staged and blob_id(staged[path], id_algo(sha)) == sha:
            same.append(path)
    stage(root, same)


def add_all(root: Path, paths: Sequence[str] = ()) -> None:
    """Stage everything (or ``paths``), deletions included."""
    _run(root, "add", "--all", "--", *(paths or ["."]), env=MANY_OBJECTS_ENV)


def commit(root: Path, message: str, *, allow_empty: bool = False, verify: bool = False) -> str:
    """Commit the index; return the new commit's sha. selenite's own commits skip the hooks
    (what it commits is links it has just made itself) unless ``verify``. A machine without a
    configured identity gets a fallback author, so selenite's own commits never fail on it."""
    args = _identity_fallbacks(root)
    args += ["commit", "-q", "-F", "-"]
    if allow_empty:
        args.append("--allow-empty")
    if not verify:
        args.append("--no-verify")
    _run(root, *args, input_bytes=message.encode())
    return head(root) or ""


def head(root: Path) -> str | None:
    return _text(_query(root, "rev-parse", "-q", "--verify", "HEAD^{commit}"))


def has_more_than_one_commit(root: Path) -> bool:
    """True when HEAD has a parent (the repo holds work beyond a first commit)."""
    return _query(root, "rev-parse", "-q", "--verify", "HEAD^1^{commit}") is not None


def config_get(root: Path, key: str, *, local: bool = False) -> str | None:
    """``git config --get key`` (``local``: only this repository's own config); None when unset."""
    return _text(_query(root, "config", *(["--local"] if local else []), "--get", key))


def config_int(root: Path, key: str) -> int | None:
    """An integer setting as git parses it (``10k``, ``10M``, ``1G``); None when unset.
    Raises ``ValueError`` (git's message) for a value git cannot read as a number."""
    status, out, err = _execute(root, ["config", "--type=int", "--get", key])
    if status == 1:
        return None
    if status != 0:
        raise ValueError(err.strip())
    return int(out.strip())


def config_section(root: Path, prefix: str, *, local: bool = False) -> dict[str, str]:
    """{name without ``prefix.``: value} of every ``prefix.*`` setting (``local``: of this
    repository's own config only), in one call."""
    where = ["--local"] if local else []
    out = _query(root, "config", *where, "-z", "--get-regexp", rf"^{re.escape(prefix)}\.") or b""
    found: dict[str, str] = {}
    for rec in split_nul(out):
        name, _, value = rec.partition("\n")
        found[name.removeprefix(prefix + ".")] = value
    return found


def config_all(root: Path) -> dict[str, str]:
    """Every setting git sees in ``root`` (all scopes), in one call: {name: value}, the last value
    of a repeated name winning as with ``--get``. Section and variable names come lower-cased
    (Git's spelling of them); subsection names as written."""
    found: dict[str, str] = {}
    for rec in split_nul(_query(root, "config", "-z", "--list") or b""):
        name, _, value = rec.partition("\n")
        found[name] = value
    return found


def config_by_scope(root: Path, key: str) -> list[tuple[str, str]]:
    """[(scope, value)] of ``key`` in git's order (the last is what ``--get`` answers); one call."""
    out = (_query(root, "config", "--show-scope", "-z", "--get-all", key) or b"").decode("utf-8", "surrogateescape")
    return list(zip(out.split("\0")[0:-1:2], out.split("\0")[1::2], strict=True))


def config_set(root: Path, key: str, value: str) -> None:
    _run(root, "config", "--local", key, value)


def config_update(root: Path, prefix: str, values: Mapping[str, str], *, new: bool = False) -> None:
    """Set ``prefix.<name>`` to each value in the local config, skipping those it holds already:
    one read instead of a git process per unchanged setting (none when ``new``: a repository just
    made holds none)."""
    have = {} if new else config_section(root, prefix, local=True)
    for name, value in values.items():
        if have.get(name.lower()) != value:
            config_set(root, f"{prefix}.{name}", value)


def config_values(root: Path, prefix: str) -> dict[str, list[str]]:
    """{name without ``prefix.``: every value, in git's order} of each ``prefix.*`` setting, in one
    call (for multi-valued settings, which ``config_section`` reduces to their last value)."""
    found: dict[str, list[str]] = {}
    for rec in split_nul(_query(root, "config", "-z", "--get-regexp", rf"^{re.escape(prefix)}\.") or b""):
        name, _, value = rec.partition("\n")
        found.setdefault(name.removeprefix(prefix + "."), []).append(value)
    return found


def config_replace_all(root: Path, key: str, values: Sequence[str]) -> None:
    """Make ``values`` the local values of ``key`` (none: unset). ``--`` before the key: a value
    starting with '-' is a value, never an option."""
    _query(root, "config", "--local", "--unset-all", key)  # fails when unset: nothing to remove
    for value in values:
        _run(root, "config", "--local", "--add", "--", key, value)


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
    status, raw, err = _execute(root, ["log", "-1", "--format=%H%x00%B", f"--grep=^{TRAILER_VERSION}: ", rev])
    if status != 0:
        if head(root) is None:
            return None  # no commit yet (asked only after a failure: one git call in the usual case)
        raise FatalError(f"git log failed: {err.strip().replace(chr(10), ' ') or f'exit {status}'}")
    out = raw.decode("utf-8", "replace")
    if not out.strip():
        return None
    sha, _, message = out.partition("\0")
    trailers = parse_trailers(message)
    if TRAILER_VERSION not in trailers:
        return None
    return sha.strip(), trailers
