"""The links Git vouches for: unchanged since the last version, known without reading them.

A symlink in the index whose working-tree entry Git finds unchanged (absent from ``git diff-files``,
Git's own stat check, racily clean entries included) holds the text of its index blob. When that
blob is the id of the link text the last version has at that path (``link_text``, hashed as Git
hashes a blob), the link names the last version's key, at the right depth. A scan of an unchanged
tree then reads three listings Git produces in parallel instead of one ``readlink`` and one parse
per path; only the paths Git does not vouch for are read from disk.

Which index entries hold the last version's link text depends only on the index listing and on the
last version's listing, so it is remembered (``Vouch``, in ``<git dir>/selenite/vouched``) under
the digest of the one and the tree hash of the other: the next scan with both unchanged needs
neither the last version's listing nor a hash per link.
"""

from __future__ import annotations

import contextlib
import hashlib
import marshal
from collections.abc import Mapping
from pathlib import Path
from typing import NamedTuple

from selenite.gitrepo import blob_ids, id_algo, split_nul
from selenite.gitrepo.listings import LINK_MODE, Listings
from selenite.keys import Key
from selenite.tree.entry import UnchangedPaths
from selenite.tree.links import link_text
from selenite.tree.stamp import StampPass
from selenite.util import atomic_write

LINK_PREFIX = LINK_MODE + " "  # an index record of a symlink starts "120000 <blob id> <stage>"
VOUCH_FILE = "selenite/vouched"  # below the git dir (per worktree); only a speed-up, never committed
_VOUCH_VERSION = 1


class Vouch(NamedTuple):
    """What an index listing and a last version's listing say, before Git's changes and untracked paths.

    ``others``: the index paths that do not hold the last version's link text (not links, another
    text, a path the version lacks, a conflict's stages); every other index entry does.
    ``absent``: the last version's paths the index lacks.
    """

    tree: str  # the last version's tree hash
    digest: str  # md5 of the index listing (`git ls-files -s -z`): its paths, modes, blob ids, stages
    others: list[str]
    absent: list[str]


def index_digest(listing: str) -> str:
    return hashlib.md5(listing.encode("utf-8", "surrogateescape"), usedforsecurity=False).hexdigest()


def load_vouch(git_dir: Path, tree: str, digest: str) -> Vouch | None:
    """The record of ``git_dir`` when it was made for this last version and this index; else None
    (missing, damaged, or made for another one)."""
    try:
        version, rec_tree, rec_digest, others, absent = marshal.loads((git_dir / VOUCH_FILE).read_bytes())
    except (OSError, ValueError, EOFError, TypeError):
        return None
    if version != _VOUCH_VERSION or rec_tree != tree or rec_digest != digest:
        return None
    if not (isinstance(others, list) and isinstance(absent, list)
            and all(isinstance(p, str) for p in others) and all(isinstance(p, str) for p in absent)):
        return None
    return Vouch(tree, digest, others, absent)


def save_vouch(git_dir: Path, vouch: Vouch) -> None:
    data = marshal.dumps((_VOUCH_VERSION, vouch.tree, vouch.digest, vouch.others, vouch.absent))
    with contextlib.suppress(OSError):  # only a speed-up: a read-only .git still gets a correct (slower) scan
        atomic_write(git_dir / VOUCH_FILE, data)


def start_listings(root: Path) -> Listings:
    """Git's listings ``vouched_links`` reads, started now: git works while the caller loads the
    last version's listing. Inside a hook the index is the one ``GIT_INDEX_FILE`` names."""
    return Listings(root, "index", "untracked", "changed")


def index_vouch(listing: str, last: Mapping[str, Key], tree: str) -> Vouch:
    """Which entries of the index listing (``ls-files -s -z``) hold the last version's link text."""
    candidates: list[tuple[str, str, Key]] = []  # (path, index blob id, last key)
    others: dict[str, None] = {}
    seen: set[str] = set()
    for rec in split_nul(listing):
        meta, _, path = rec.partition("\t")
        if path in seen:  # a conflict's stages: read it from disk
            others[path] = None
            continue
        seen.add(path)
        key = last.get(path)
        if key is None or not meta.startswith(LINK_PREFIX):
            others[path] = None
            continue
        candidates.append((path, meta[7:meta.index(" ", 7)], key))
    if candidates:
        algo = id_algo(candidates[0][1])
        ids = blob_ids((link_text(path, key).encode() for path, _, key in candidates), algo)
        for (path, sha, _key), want in zip(candidates, ids, strict=True):
            if sha != want:
                others[path] = None
    absent = [p for p in last if p not in seen]
    return Vouch(tree, index_digest(listing), list(others), absent)


def vouched_links(views: Listings, last: Mapping[str, Key],
                  vouch: Vouch | None = None) -> tuple[dict[str, tuple[Key, str]], list[str]]:
    """({path: (key, link text)} of the links Git vouches for as the last version has them, every
    other path Git sees: tracked ones (changed, deleted, not links, not the last version's link) and
    untracked, not-ignored ones, each once). ``vouch``: what ``index_vouch`` says of this index and
    ``last``, when known."""
    listing = views.raw("index")
    if vouch is None:
        vouch = index_vouch(listing, last, "")
    changed = set(views.changed())
    static = set(vouch.others)
    others: dict[str, None] = {}
    vouched: dict[str, tuple[Key, str]] = {}
    for rec in split_nul(listing):
        path = rec.partition("\t")[2]
        if path in static or path in changed:
            others[path] = None
        else:
            key = last[path]
            vouched[path] = (key, link_text(path, key))
    for path in views.untracked():
        others[path] = None
    return vouched, list(others)


def unchanged_paths(views: Listings, vouch: Vouch, tails: list[str | None]) -> UnchangedPaths | None:
    """Every path unchanged, when nothing can have changed: every index entry holds the last
    version's link (``vouch``) and the version has no other path, Git sees no change and no
    untracked path, and the check stamp vouches for every link's object (``tails``, in index order:
    ``stamp.StampPass``). None otherwise (the scan then reads what it must)."""
    if vouch.others or vouch.absent or not tails or None in tails or views.changed() or views.untracked():
        return None
    listing = views.raw("index")
    if listing.count("\0") != len(tails):  # a record per link, each ended by NUL
        return None
    # The stamp's object for a link's blob is the key its text names: the last version's key here.
    return UnchangedPaths(listing, [t for t in tails if t is not None])


class Vouching:
    """What the stamps and Git's listings say of a tree before any path is read (one per scan).

    ``ref``: the tree hash of the last version's listing in the cache (None: unknown, or a listing
    the caller gave); ``check_objects``: the scan judges objects, so the check stamp is read.
    ``unchanged``: every path of the tree, when ``unchanged_paths`` could tell them all unchanged; else None.
    """

    def __init__(self, views: Listings, cache_root: Path, ref: str | None, check_objects: bool) -> None:
        self.views, self.ref = views, ref
        self.stamp = StampPass(views.git_dir, cache_root, lambda: views.raw("index")) if check_objects else None
        self.tails = self.stamp.tails if self.stamp is not None else []
        self.vouch = load_vouch(views.git_dir, ref, index_digest(views.raw("index"))) if ref is not None else None
        self.unchanged = unchanged_paths(views, self.vouch, self.tails) if self.vouch is not None else None

    def vouched_links(self, last: Mapping[str, Key] | None) -> tuple[dict[str, tuple[Key, str]], list[str]]:
        """``vouched_links`` with the vouch record, made (and kept) now if it was not known."""
        if not last:
            return vouched_links(self.views, {})
        if self.vouch is None and self.ref is not None:
            self.vouch = index_vouch(self.views.raw("index"), last, self.ref)
            save_vouch(self.views.git_dir, self.vouch)
        return vouched_links(self.views, last, self.vouch)

    def intact_names(self) -> set[str]:
        """Names of the objects the check stamp vouches for (intact, unchanged since it was made)."""
        return {t[t.rfind("/") + 1:] for t in self.tails if t}

    def remember(self, vouched: Mapping[str, tuple[Key, str]], intact: set[Key]) -> None:
        """After the scan judged the objects: stamp those of the links Git vouches for that it found
        intact (``intact``) and the stamp did not vouch for yet (a new clone's, an object re-signed)."""
        if self.stamp is None or not intact:
            return
        known = self.intact_names()
        fresh = {text: key for key, text in vouched.values() if key in intact and key.name not in known}
        self.stamp.remember(fresh)
