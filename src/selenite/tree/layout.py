"""One interface over the three ways a working tree holds its files: ``layout_of(root)``.

A symlink tree (``symlinks``) commits links into the cache; a hardlink or copy tree (``records``,
``records_scan``, ``place``) holds real files and commits a record of them. The commands ask for
the tree's ``Layout`` once and call it, so none of them branches on the link mode.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Protocol

from selenite import gitfiles, gitrepo, output
from selenite.cache import Cache
from selenite.errors import FatalError
from selenite.gitrepo import blobs
from selenite.gitrepo.listings import Listings
from selenite.keys import Key
from selenite.statcache import StatCache
from selenite.tree import place, records, records_scan, symlinks
from selenite.tree.entry import Entry, PathStatus, UnchangedPaths
from selenite.tree.links import link_text, parse_link_text
from selenite.tree.modes import AUTO, COPY, HARDLINK, SYMLINK


class Layout(Protocol):
    """What the commands need from a working tree, whatever its link mode."""

    root: Path
    mode: str  # symlink, hardlink or copy (what git config records)
    files_as: str  # how clone names its files: "" for links, "hard links", "copies"
    editable_in_place: bool  # its files are the user's own, writable as they are (copy mode)

    def scan(self, cache: Cache, *, last: Mapping[str, Key] | None = None, pathspecs: Sequence[str] = (),
             check_objects: bool = True, include_deleted: bool = True, views: Listings | None = None) -> list[Entry]:
        """Classify every data path of the tree against its last version (``views``: Git's listings
        of this state, when the caller started them already; a symlink tree reads them)."""

    def survey(self, cache: Cache) -> list[Entry] | UnchangedPaths:
        """``scan``, or ``UnchangedPaths`` when the tree can tell it holds its version unchanged."""

    def last_listing(self, cache: Cache) -> dict[str, Key]:
        """{path: key} of the version the tree was made from or last pushed as."""

    def pinned_keys(self) -> set[Key]:
        """Keys the files on disk keep in use: gc and drop must keep their objects."""

    def keys_in_revisions(self, revs: Sequence[str]) -> set[Key]:
        """Keys the commits ``revs`` (and the index) name, so a checkout of them finds its content."""

    def check_listing(self, listing: Iterable[str], where: str) -> None:
        """Refuse, before anything is written, paths this layout cannot hold."""

    def needed_first(self, listing: Mapping[str, Key]) -> dict[str, Key]:
        """Content ``start`` needs in the cache (fetched even by a clone without download)."""

    def start(self, cache: Cache, listing: Mapping[str, Key]) -> None:
        """Make a new tree's files (or their stand-ins) before its first commit."""

    def populate(self, cache: Cache, listing: Mapping[str, Key], paths: Iterable[str] | None = None) -> None:
        """After clone fetched the content: the files that need it get it (only ``paths``, when given)."""

    def check_placeable(self, paths: Iterable[str]) -> None:
        """Before get fetches anything: refuse paths get could not write."""

    def materialize(self, cache: Cache, entries: Sequence[Entry], whole_tree: bool) -> None:
        """After get fetched the content of ``entries``: make the tree's files hold it."""

    def out_of_sync(self) -> bool:
        """The files were placed from another version than the one the tree records."""

    def require_in_sync(self) -> None:
        """Refuse (``FatalError``) a tree whose files lag behind its record: push would misread them."""

    def after_push(self, cache: Cache, path: str, key: Key, hashes: StatCache) -> bool:
        """What a pushed path becomes; False when it stays as it is (not relinked)."""

    def pushed_blob(self, path: str, key: Key) -> bytes | None:
        """The blob Git will hold at ``path`` once ``after_push`` relinked it (None: not known here)."""

    def record_pushed(self, cache: Cache, listing: Mapping[str, Key], relinked: Sequence[str],
                      hashes: StatCache) -> None:
        """After the pushed paths were handled: the tree records the new version."""

    def shares_object(self, entry: Entry, cache: Cache) -> bool:
        """Writing to this path writes the cache's object (a link into the cache, or a hard link);
        False for a file that holds its own bytes (a copy)."""


class SymlinkLayout:
    """Links into the cache through the anchor; Git holds the link texts."""

    mode = SYMLINK
    files_as = ""
    editable_in_place = False

    def __init__(self, root: Path) -> None:
        self.root = root

    def scan(self, cache: Cache, *, last: Mapping[str, Key] | None = None, pathspecs: Sequence[str] = (),
             check_objects: bool = True, include_deleted: bool = True, views: Listings | None = None) -> list[Entry]:
        return symlinks.scan(self.root, cache, last=last, pathspecs=pathspecs, check_objects=check_objects,
                             include_deleted=include_deleted, views=views)

    def survey(self, cache: Cache) -> list[Entry] | UnchangedPaths:
        return symlinks.survey(self.root, cache)

    def last_listing(self, cache: Cache) -> dict[str, Key]:
        return symlinks.last_listing(self.root, cache)

    def pinned_keys(self) -> set[Key]:
        return symlinks.linked_keys(self.root)

    def keys_in_revisions(self, revs: Sequence[str]) -> set[Key]:
        keys: set[Key] = set()
        for _path, text in blobs.symlinks_in(self.root, revs, index=True):
            # Any link text that names an object counts, even one moved to another folder depth.
            parsed = parse_link_text(text)
            if parsed is not None:
                keys.add(parsed.key)
        return keys

    def check_listing(self, listing: Iterable[str], where: str) -> None:
        return None  # every path the manifest checks allowed is a link's path

    def needed_first(self, listing: Mapping[str, Key]) -> dict[str, Key]:
        # Git reads these from regular files: they are copies, made at start.
        return {p: k for p, k in listing.items() if gitfiles.read_by_git(p)}

    def start(self, cache: Cache, listing: Mapping[str, Key]) -> None:
        symlinks.make_links(self.root, {p: k for p, k in listing.items() if not gitfiles.read_by_git(p)})
        gitfiles.place_copies(self.root, cache, listing)  # copies, never links: Git does not follow links to these

    def populate(self, cache: Cache, listing: Mapping[str, Key], paths: Iterable[str] | None = None) -> None:
        return None  # the links resolve as soon as the objects are in the cache

    def check_placeable(self, paths: Iterable[str]) -> None:
        return None  # get writes no data file (pointer files are filled where they are)

    def materialize(self, cache: Cache, entries: Sequence[Entry], whole_tree: bool) -> None:
        # Pointer files (Git checked them out without the filter) get their bytes.
        symlinks.fill_pointers(self.root, cache, [e.path for e in entries
                                                   if e.status == PathStatus.CONTENT_MISSING and e.target is None])
        # A .gitignore (...) that an older selenite made a link: Git cannot read it, so a copy.
        linked = {e.path: e.key for e in entries if e.target is not None and e.key is not None}
        if gitfiles.place_copies(self.root, cache, {p: k for p, k in linked.items() if cache.has(k)}):
            output.info("the files Git reads itself (.gitignore, ...) are regular files again: commit them")

    def out_of_sync(self) -> bool:
        return False

    def require_in_sync(self) -> None:
        return None

    def after_push(self, cache: Cache, path: str, key: Key, hashes: StatCache) -> bool:
        if gitfiles.read_by_git(path):
            return False  # Git reads it: it stays a regular file (its bytes are in the cache and the registry)
        symlinks.relink(self.root, path, key)
        return True

    def pushed_blob(self, path: str, key: Key) -> bytes | None:
        return None if gitfiles.read_by_git(path) else link_text(path, key).encode()

    def record_pushed(self, cache: Cache, listing: Mapping[str, Key], relinked: Sequence[str],
                      hashes: StatCache) -> None:
        hashes.forget(relinked)

    def shares_object(self, entry: Entry, cache: Cache) -> bool:
        return True


class RecordLayout:
    """Real files (hard links to the objects, or copies); Git holds ``.selenite/tree.json``."""

    editable_in_place: bool

    def __init__(self, root: Path, mode: str) -> None:
        self.root = root
        self.mode = mode
        self.files_as = "hard links" if mode == HARDLINK else "copies"
        self.editable_in_place = mode == COPY

    def scan(self, cache: Cache, *, last: Mapping[str, Key] | None = None, pathspecs: Sequence[str] = (),
             check_objects: bool = True, include_deleted: bool = True, views: Listings | None = None) -> list[Entry]:
        return records_scan.scan(self.root, cache, last=last, pathspecs=pathspecs, check_objects=check_objects,
                                 include_deleted=include_deleted)

    def survey(self, cache: Cache) -> list[Entry] | UnchangedPaths:
        return self.scan(cache)

    def last_listing(self, cache: Cache) -> dict[str, Key]:
        record = records.read_record(self.root)  # its record is the last version
        return dict(record.files) if record is not None else {}

    def pinned_keys(self) -> set[Key]:
        # A copy tree holds its own bytes, so it pins nothing: gc may free the cache's copies.
        if self.mode != HARDLINK:
            return set()
        record = records.read_record(self.root)
        return set(record.files.values()) if record is not None else set()

    def keys_in_revisions(self, revs: Sequence[str]) -> set[Key]:
        if self.mode != HARDLINK:
            return set()
        keys: set[Key] = set()
        for data in blobs.file_versions(self.root, revs, records.RECORD, index=True):
            try:
                keys |= set(records.parse_record(data, records.RECORD).files.values())
            except FatalError:
                continue  # a damaged record in some commit names nothing we can keep
        return keys

    def check_listing(self, listing: Iterable[str], where: str) -> None:
        for path in listing:
            records.check_data_path(path, where)

    def needed_first(self, listing: Mapping[str, Key]) -> dict[str, Key]:
        return {}

    def start(self, cache: Cache, listing: Mapping[str, Key]) -> None:
        # Real files: Git holds the record, never their bytes (docs/user/link-modes.md).
        records.start_tree(self.root, self.mode, listing)

    def populate(self, cache: Cache, listing: Mapping[str, Key], paths: Iterable[str] | None = None) -> None:
        place.place_all(self.root, cache, self.mode, listing, paths)
        records.write_placed(self.root, listing, cache)  # the whole listing: the paths not placed are pending

    def check_placeable(self, paths: Iterable[str]) -> None:
        place.check_placeable(self.root, paths)

    def materialize(self, cache: Cache, entries: Sequence[Entry], whole_tree: bool) -> None:
        try:
            _placed, absent = place.materialize(self.root, cache, self.mode, entries, whole_tree)
        except OSError as e:  # a name this filesystem refuses, a full disk: a refusal, not a crash
            raise FatalError(f"could not place the files: {e.strerror or e}{f' ({e.filename})' if e.filename else ''}; "
                             "the files placed so far stay, `selenite get` again finishes") from None
        if absent:
            raise FatalError(f"could not place {len(absent)} file(s) (e.g. {absent[0]}): "
                             "their objects are not in the cache")

    def out_of_sync(self) -> bool:
        return records.out_of_sync(self.root)

    def require_in_sync(self) -> None:
        records.require_in_sync(self.root)

    def after_push(self, cache: Cache, path: str, key: Key, hashes: StatCache) -> bool:
        # A hard link to the object, or (copy) the file as it is, remembered by the stat cache.
        place.after_push(self.root, cache, self.mode, path, key, hashes)
        return True

    def pushed_blob(self, path: str, key: Key) -> bytes | None:
        return None  # Git holds no data file here, only the record

    def record_pushed(self, cache: Cache, listing: Mapping[str, Key], relinked: Sequence[str],
                      hashes: StatCache) -> None:
        # The record names the new version; Git commits it instead of the files.
        place.record_pushed(self.root, cache, self.mode, listing)

    def shares_object(self, entry: Entry, cache: Cache) -> bool:
        # Only a hard link is the object itself; a copy (or a link already broken) is the user's own file.
        if entry.target is not None:
            return True
        return entry.key is not None and place.shares_object(self.root, entry.path, cache, entry.key)


def layout_of(root: Path) -> Layout:
    """The layout of the working tree at ``root`` (one ``lstat`` for a symlink tree, no git call)."""
    if records.has_record(root):
        return RecordLayout(root, records.record_mode(root))
    return SymlinkLayout(root)


def layout_for(root: Path, mode: str) -> Layout:
    """The layout a new tree at ``root`` will have in link mode ``mode`` (symlink, hardlink, copy)."""
    return SymlinkLayout(root) if mode == SYMLINK else RecordLayout(root, mode)


def check_listing_for(requested: str, listing: Iterable[str], where: str) -> None:
    """Refuse paths the requested link mode's layout cannot hold (``auto`` is decided later, by
    ``modes.choose``, and checked then)."""
    if requested != AUTO:
        layout_for(Path(), requested).check_listing(listing, where)


def mode_to_record(root: Path) -> str:
    """The link mode git config keeps for the tree: the configured one, else the tree's own (after
    a plain `git clone` of a hardlink/copy tree: the mode its record names)."""
    return gitrepo.config_get(root, "selenite.linkmode") or layout_of(root).mode
