"""Reading blobs and trees: link texts of a commit, small files, a path's versions, object sizes.

Each function costs a fixed number of git calls whatever the size of the tree (one ``ls-tree`` or
``ls-files``, then at most one ``cat-file --batch``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

from selenite.gitrepo import _run, blob_id, head, id_algo


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
        if text is not None and blob_id(text.encode("utf-8", "surrogateescape"), id_algo(sha)) == sha:
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


def blob_sizes(root: Path, shas: Iterable[str]) -> dict[str, int]:
    """{id: size} of these objects (one ``cat-file --batch-check``; unknown ids are left out)."""
    shas = list(dict.fromkeys(shas))
    if not shas:
        return {}
    out = _run(root, "cat-file", "--batch-check=%(objectname) %(objectsize)",
               input_bytes="".join(f"{s}\n" for s in shas).encode())
    sizes: dict[str, int] = {}
    for line in out.decode("ascii", "replace").splitlines():
        sha, _, size = line.partition(" ")
        if size.isdigit():
            sizes[sha] = int(size)
    return sizes


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
