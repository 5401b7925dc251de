"""Git stores pointers, never data: the ``selenite`` clean/smudge filter (docs/user/editing.md).

A data file that is a regular file in the tree (unlocked and edited, or new) would otherwise go into
``.git`` whole on ``git commit``. With this filter Git stores a one-line *pointer* instead::

    selenite-pointer MD5E-s3145728--0123456789abcdef0123456789abcdef.bin

- **clean** (``git add``, ``git commit -a``, ``git status`` of a changed file): the bytes are
  ingested into the shared cache as they stream in (read-only object, temp file + fsync + rename,
  md5 on the way, flat memory) and the pointer is what Git stores; the pointer always resolves on
  this machine. A pointer given to clean (a file not filled yet) passes through unchanged.
- **smudge** (``git checkout``, ``git clone`` with the filter set up): a pointer whose object is in
  the cache becomes its bytes; otherwise the pointer itself is written, and ``selenite get`` fills it
  later (from the cache or the registry). Smudge never fails for missing content.

Git runs it as one long-running process per command (``filter.selenite.process``, Git's pkt-line
protocol, ``pktline.py``) so a commit of many files starts Python once. ``required = true``: when
the filter cannot run or cannot store the bytes, Git stops (``git add`` fails with the reason)
rather than silently storing the bytes. Git never filters symlinks, so the links of a symlink tree
are untouched; files Git reads itself (``gitfiles``) and a hardlink/copy tree's record are never
filtered.
"""

from __future__ import annotations

import contextlib
import itertools
import shlex
import sys
import tempfile
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING

from selenite import gitfiles
from selenite.errors import FatalError, ProtocolError
from selenite.keys import CHUNK, Digest, Key, extension_of, iter_chunks
from selenite.pktline import Wire
from selenite.tree.pointers import MAX_POINTER, parse_pointer, pointer

if TYPE_CHECKING:
    from selenite.cache import Cache

# Git starts ``python -m selenite.gitfilter`` for every command that filters files, and the
# pre-commit hook imports this module too: what only setting the filter up needs (gitrepo,
# file writing) and the cache (sqlite) are imported inside the functions that use them.

DRIVER = "selenite"

# The marker line is matched in existing trees: its text (and its old doc path) must never change.
_BLOCK_BEGIN = "# >>> selenite: Git stores a pointer for every data file, never its bytes (docs/editing.md)"
_BLOCK_END = "# <<< selenite"
# `* filter=selenite`, then the files Git must read as they are (later lines win). A
# hardlink/copy tree's record is Git's own content too.
_ATTRIBUTES = (f"* filter={DRIVER}", *(f"{name} -filter" for name in gitfiles.NAMES), "/.selenite/tree.json -filter")


# --- setting it up in a repository ----------------------------------------------------------------


def process_command() -> str:
    """What Git runs: this Python (the one selenite is installed in), through the shell."""
    return f"{shlex.quote(sys.executable)} -m selenite.gitfilter"


def _attributes_path(root: Path) -> Path:
    from selenite import gitrepo  # noqa: PLC0415 -- set-up only (see the imports)

    return gitrepo.common_dir(root) / "info" / "attributes"


def configure(root: Path) -> None:
    """Set the filter up (``.git/config``) and apply it to every file (``.git/info/attributes``,
    a marked block; the user's own lines there are kept). Local to this repository: a plain
    `git clone` of it gets neither, and checks pointers out as they are until ``selenite get``."""
    from selenite import gitrepo  # noqa: PLC0415 -- set-up only (see the imports)
    from selenite.util import write_marked_block  # noqa: PLC0415

    gitrepo.config_set(root, f"filter.{DRIVER}.process", process_command())
    gitrepo.config_set(root, f"filter.{DRIVER}.required", "true")
    write_marked_block(_attributes_path(root), _BLOCK_BEGIN, _BLOCK_END, _ATTRIBUTES)


def ensure_configured(root: Path, config: Mapping[str, str] | None = None) -> None:
    """``configure`` unless this repository already runs this filter (one git call; none when the
    caller has read git config already: ``config``, as ``gitrepo.config_all`` gives it)."""
    from selenite import gitrepo  # noqa: PLC0415 -- set-up only (see the imports)
    from selenite.util import has_marked_block  # noqa: PLC0415

    name = f"filter.{DRIVER}.process"
    process = config.get(name) if config is not None else gitrepo.config_get(root, name)
    if process != process_command() \
            or not has_marked_block(_attributes_path(root), _BLOCK_BEGIN, _BLOCK_END, _ATTRIBUTES):
        configure(root)


# --- pointers in Git -------------------------------------------------------------------------------


def pointer_keys(root: Path, index: bool = True) -> set[Key]:
    """Keys named by the pointers of HEAD (and of the index): content only this repository's
    history may hold (committed, not pushed yet), which ``gc`` must keep."""
    from selenite.gitrepo import blobs as git_blobs  # noqa: PLC0415 -- not in the filter process

    blobs = git_blobs.small_file_blobs(root, MAX_POINTER, index=index)
    return {k for data in blobs if (k := parse_pointer(data)) is not None}


# --- the filter process -------------------------------------------------------------------------


def _spool(content: Iterable[bytes]) -> tempfile.SpooledTemporaryFile[bytes]:
    """All of ``content``, in memory while small, in a temp file beyond (flat memory)."""
    # Closed by the caller (``_replay``, or ``smudge`` once it has read the head).
    f: tempfile.SpooledTemporaryFile[bytes] = tempfile.SpooledTemporaryFile(max_size=CHUNK)  # noqa: SIM115
    for block in content:
        f.write(block)
    f.seek(0)
    return f


def _replay(f: tempfile.SpooledTemporaryFile[bytes]) -> Iterator[bytes]:
    with f:
        yield from iter_chunks(f)  # type: ignore[arg-type]


def clean(cache: Cache, pathname: str, content: Iterator[bytes]) -> Iterable[bytes]:
    """Data in, pointer out (the bytes ingested into ``cache``); a pointer passes through."""
    from selenite.cache.state import OK  # noqa: PLC0415 -- the hook imports this module without the cache

    if gitfiles.read_by_git(pathname):  # never reached through the attributes; kept as it is anyway
        return _replay(_spool(content))
    head = b""
    for block in content:
        head += block
        if len(head) > MAX_POINTER:
            break
    else:
        if parse_pointer(head) is not None:
            return [head]
    # Content up to one chunk is hashed before anything is written: bytes the cache holds intact
    # already (a push's new files, ingested in one batch before its `git add`) cost no temp file.
    small, size = [head], len(head)
    for block in content:
        small.append(block)
        size += len(block)
        if size > CHUNK:
            break
    else:
        digest = Digest()
        for block in small:
            digest.update(block)
        key = Key(digest.hexdigest(), digest.size, extension_of(pathname))
        if cache.state(key) == OK:
            return [pointer(key)]
    key = cache.put_chunks(itertools.chain(small, content), pathname)
    return [pointer(key)]


def smudge(cache: Cache, content: Iterator[bytes]) -> Iterable[bytes]:
    """Pointer in, its bytes out when the cache holds them (else the pointer); data passes through."""
    from selenite.cache import read_object  # noqa: PLC0415 -- the hook imports this module without the cache

    spooled = _spool(content)
    head = spooled.read(MAX_POINTER + 1)
    key = parse_pointer(head)
    if key is None:
        spooled.seek(0)
        return _replay(spooled)
    spooled.close()
    if cache.ensure_local(key):
        return read_object(cache, key)  # checked against the key as it is read
    return [head]


def serve(wire: Wire, cache: Cache) -> None:
    """Answer Git's requests until it closes the pipe (Git's long-running filter protocol, v2)."""
    wire.handshake("git-filter", {"clean", "smudge"})
    while True:
        try:
            header = wire.read_fields()
        except EOFError:
            return  # git is done
        command, pathname = header.get("command"), header.get("pathname", "")
        content = wire.read_stream()
        try:
            if command == "clean":
                result = clean(cache, pathname, content)
            elif command == "smudge":
                result = smudge(cache, content)
            else:
                raise ProtocolError(f"unknown filter command {command!r}")
        except Exception as e:  # one file's failure is Git's to report (required = true)
            for _ in content:  # git waits until its whole content was read before it reads the answer
                pass
            sys.stderr.write(f"selenite: {command} filter failed for {pathname}: {e}\n")
            wire.answer_error()
            continue
        wire.answer(result)


def main() -> None:
    """``python -m selenite.gitfilter``: what ``filter.selenite.process`` runs (in the tree's top)."""
    # The filter process's own needs (settings, the cache): not imported by the hook, which imports this module.
    from selenite.dirs import default_cache_dir  # noqa: PLC0415 -- not the settings (config): a dataclass and inspect
    from selenite.tree.anchor import tree_cache  # noqa: PLC0415

    try:
        cache = tree_cache(Path.cwd(), default_cache_dir())
        with contextlib.closing(cache):
            serve(Wire(sys.stdin.buffer, sys.stdout.buffer), cache)
    except (FatalError, ProtocolError) as e:
        sys.stderr.write(f"selenite: filter: {e}\n")
        raise SystemExit(1) from None
    except (BrokenPipeError, ConnectionResetError):
        raise SystemExit(1) from None  # git went away (killed, or a failure of its own): nothing to say
    except KeyboardInterrupt:
        raise SystemExit(130) from None


if __name__ == "__main__":
    main()
