"""The links Git vouches for: unchanged since the last version, known without reading them.

A symlink in the index whose working-tree entry Git finds unchanged (absent from ``git diff-files``,
Git's own stat check, racily clean entries included) holds the text of its index blob. When that
blob is the id of the link text the last version has at that path (``link_text``, hashed as Git
hashes a blob), the link names the last version's key, at the right depth. A scan of an unchanged
tree then reads three listings Git produces in parallel instead of one ``readlink`` and one parse
per path; only the paths Git does not vouch for are read from disk.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from selenite.gitrepo import blob_ids, id_algo, split_nul
from selenite.gitrepo.listings import LINK_MODE, Listings
from selenite.keys import Key
from selenite.tree.links import link_text

LINK_PREFIX = LINK_MODE + " "  # an index record of a symlink starts "120000 <blob id> <stage>"


def start_listings(root: Path) -> Listings:
    """Git's listings ``vouched_links`` reads, started now: git works while the caller loads the
    last version's listing. Inside a hook the index is the one ``GIT_INDEX_FILE`` names."""
    return Listings(root, "index", "untracked", "changed")


def vouched_links(views: Listings, last: Mapping[str, Key]) -> tuple[dict[str, tuple[Key, str]], list[str]]:
    """({path: (key, link text)} of the links Git vouches for as the last version has them, every
    other path Git sees: tracked ones (changed, deleted, not links, not the last version's link) and
    untracked, not-ignored ones, each once)."""
    changed = set(views.changed())
    candidates: list[tuple[str, str, Key, str]] = []  # (path, index blob id, last key, last link text)
    others: dict[str, None] = {}
    seen: set[str] = set()
    for rec in split_nul(views.raw("index")):
        meta, _, path = rec.partition("\t")
        if path in seen:  # a conflict's stages: read it from disk
            others[path] = None
            continue
        seen.add(path)
        key = last.get(path)
        if key is None or not meta.startswith(LINK_PREFIX) or path in changed:
            others[path] = None
            continue
        candidates.append((path, meta[7:meta.index(" ", 7)], key, link_text(path, key)))
    vouched: dict[str, tuple[Key, str]] = {}
    if candidates:
        algo = id_algo(candidates[0][1])
        ids = blob_ids((text.encode() for _, _, _, text in candidates), algo)
        for (path, sha, key, text), want in zip(candidates, ids, strict=True):
            if sha == want and path not in others:
                vouched[path] = (key, text)
            else:
                others[path] = None
    for path in views.untracked():
        others[path] = None
    return vouched, list(others)
