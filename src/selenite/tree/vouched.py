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

from selenite.gitrepo import blob_id, id_algo, split_nul
from selenite.gitrepo.listings import LINK_MODE, Listings
from selenite.keys import Key
from selenite.tree.links import link_text


def start_listings(root: Path) -> Listings:
    """Git's listings ``vouched_links`` reads, started now: git works while the caller loads the
    last version's listing. Inside a hook the index is the one ``GIT_INDEX_FILE`` names."""
    return Listings(root, "index", "untracked", "changed")


def vouched_links(views: Listings, last: Mapping[str, Key]) -> tuple[dict[str, tuple[Key, str]], list[str]]:
    """({path: (key, link text)} of the links Git vouches for as the last version has them, every
    other path Git sees: tracked ones (changed, deleted, not links, not the last version's link) and
    untracked, not-ignored ones, each once)."""
    changed = set(views.changed())
    vouched: dict[str, tuple[Key, str]] = {}
    others: dict[str, None] = {}
    algo = ""
    for rec in split_nul(views.raw("index")):
        meta, _, path = rec.partition("\t")
        mode, sha, _stage = meta.split(" ")
        key = last.get(path)
        if path in vouched or path in others:  # a conflict's stages: read it from disk
            vouched.pop(path, None)
            others[path] = None
            continue
        if key is None or mode != LINK_MODE or path in changed:
            others[path] = None
            continue
        algo = algo or id_algo(sha)
        text = link_text(path, key)
        if blob_id(text.encode(), algo) == sha:
            vouched[path] = (key, text)
        else:
            others[path] = None
    for path in views.untracked():
        others[path] = None
    return vouched, list(others)
