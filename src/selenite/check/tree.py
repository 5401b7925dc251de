"""The check of a whole working tree: a fast pass the stamp vouches for, a slow pass for the rest.

The fast pass covers the links of the index, whose text is the index blob wherever Git finds the
working tree unchanged: when the last clean check stamped that blob with its object's inode and
size, and the object's ctime is older than the stamp, the object is unchanged (every write moves
ctime, and no user call sets it back): one stat, no readlink, no database. Everything else takes
the slow pass: paths Git sees changed, untracked paths, staged changes that may hide a destroyed
link, and links the stamp cannot vouch for: readlink, classify, stat through the link, the cache's
stat signature, and a re-hash only when that differs.
"""

from __future__ import annotations

import itertools
import os
from pathlib import Path

from selenite import statsig
from selenite.check import classify, objects
from selenite.check.objects import ObjectState
from selenite.check.problems import Problem, ProblemKind
from selenite.gitrepo import blob_id, id_algo
from selenite.gitrepo.listings import LINK_MODE, Listings, Staged, index_entry
from selenite.keys import Key, object_relpath
from selenite.tree.pointers import read_pointer_file
from selenite.tree.stamp import STAMP_FILE, Stamp, confirm_records, fast_pass, restamp

# A hardlink/copy tree's record (``tree.records.RECORD``, not imported: that module loads the cache).
RECORD = ".selenite/tree.json"


class SlowPass:
    """What the slow pass gathers: problems read from the paths, and the objects left to judge."""

    def __init__(self, objects_dir: Path) -> None:
        self.objects_dir = objects_dir
        self.problems: list[Problem] = []
        self.objects: dict[Key, tuple[list[str], os.stat_result | None]] = {}  # key -> (paths, stat)
        self.texts: dict[str, str] = {}  # path -> link text, for the stamp

    def link(self, key: Key, rel: str, full: str) -> None:
        """A link to the object of ``key``: the object's stat, through the link."""
        if key in self.objects:
            self.objects[key][0].append(rel)
            return
        try:
            self.objects[key] = ([rel], os.stat(full))
        except FileNotFoundError:
            self.objects[key] = ([rel], None)  # dangling, as after `clone --no-download` or `drop`
        except OSError:
            why = f"the object behind this link cannot be read ({key.name})"
            self.problems.append(Problem(rel, ProblemKind.CORRUPTED, why))

    def pointer(self, key: Key, rel: str) -> None:
        """A file Git holds as a pointer, content not filled in: judged as a link to that key."""
        if key in self.objects:
            self.objects[key][0].append(rel)
            return
        try:
            self.objects[key] = ([rel], os.stat(self.objects_dir / object_relpath(key)))
        except OSError:
            self.objects[key] = ([rel], None)


def check_tree(top: Path, cache_dir: Path, views: Listings | None = None) -> list[Problem]:
    """Every problem that must stop a commit, in path order (empty: the tree is fine). ``views``:
    ``listings_for_check(top)``, when the caller reads them afterwards too (push's plan does)."""
    views = views if views is not None else listings_for_check(top)
    root = objects.cache_root(top, cache_dir)
    stamp_path = views.git_dir / STAMP_FILE
    started = statsig.horizon(statsig.now())
    # The stamp and its objects first: the stats need no index, so they run while git lists it.
    old = Stamp.load(stamp_path, os.fspath(root))
    confirmed = confirm_records(old, root / "objects")
    fast = fast_pass(views.raw("index"), old, confirmed)
    algo = id_algo(fast.blobs[0]) if fast.blobs else "sha1"  # the repository's object format

    walk = slow_pass(top, root, views, fast.slow_paths)
    fresh = _judge(top, root, walk, algo)
    problems = walk.problems
    if os.path.isfile(top / RECORD) and not os.path.islink(top / RECORD):
        # A hardlink/copy tree: its data are real files that Git does not list. A hard link written
        # in place corrupts its object just as an edit through a symlink does (docs/user/link-modes.md).
        from selenite.tree.records_scan import hook_problems  # noqa: PLC0415 -- sqlite: only in hardlink/copy trees

        found = hook_problems(top, cache_dir)
        problems += [Problem(rel, ProblemKind(kind), detail) for rel, kind, detail in found]

    changed = fast.slow_paths or len(fast.blobs) != len(old.blobs)
    if changed and not any(p.kind == ProblemKind.CORRUPTED for p in problems):
        restamp(stamp_path, os.fspath(root), started, fast.blobs, fast.source, old, fresh)
    problems.sort(key=lambda p: p.path)
    return problems


def listings_for_check(top: Path) -> Listings:
    """Git's listings ``check_tree`` reads, started now."""
    return Listings(top, "index", "changed", "untracked", "staged")


def slow_pass(top: Path, root: Path, views: Listings, slow_paths: list[str]) -> SlowPass:
    """Read every path the fast pass could not vouch for: links the stamp does not know, paths Git
    sees changed, untracked paths, and staged changes that may hide a destroyed link."""
    staged = views.staged()
    untracked = views.untracked()
    untracked_set = set(untracked)
    suspects = [p for p, c in staged.items() if c.old_mode == LINK_MODE or c.status == "A"
                or (c.status == "M" and c.new_mode.startswith("100"))]  # maybe a pointer file now
    paths = dict.fromkeys(itertools.chain(slow_paths, views.changed(), untracked, suspects))
    index_meta: dict[str, str] | None = None  # read only if a regular file needs it
    walk = SlowPass(root / "objects")
    prefix = os.fspath(top) + "/"
    for rel in paths:
        full = prefix + rel
        try:
            text = os.readlink(full)
        except FileNotFoundError:
            continue  # deleted: allowed
        except OSError:
            # Not a link (a regular file, a submodule's folder): only a destroyed link matters.
            if index_meta is None:
                index_meta = views.index_meta(paths)
            _regular_file(walk, full, rel, index_meta.get(rel), staged.get(rel), rel in untracked_set)
            continue
        key, problem = classify.link_key(rel, text)
        if problem is not None:
            walk.problems.append(problem)
        elif key is not None:  # else: an ordinary link to another path of the tree
            walk.texts[rel] = text
            walk.link(key, rel, full)
    return walk


def _regular_file(walk: SlowPass, full: str, rel: str, meta: str | None, change: Staged | None,
                  untracked: bool) -> None:
    """A path that is not a link: a destroyed link (a file holding only a link's text), a pointer
    whose content is not filled in, or anything else (allowed)."""
    entry = index_entry(meta)
    was_link = (entry is not None and entry.mode == LINK_MODE) or (change is not None and change.old_mode == LINK_MODE)
    if was_link or untracked or (change is not None and change.status == "A"):
        problem = classify.destroyed(full, rel, entry, change)
        if problem is not None:
            walk.problems.append(problem)
            return
    pkey = read_pointer_file(Path(full))
    if pkey is not None:
        walk.pointer(pkey, rel)


def _judge(top: Path, root: Path, walk: SlowPass, algo: str) -> dict[str, tuple[str, os.stat_result]]:
    """Judge the objects the slow pass found (problems go to ``walk``); return what the new stamp
    may vouch for: link text's blob id -> (object path, stat)."""
    states = objects.settle(root, walk.objects) if walk.objects else {}
    known = objects.KnownContent(top, root)
    fresh: dict[str, tuple[str, os.stat_result]] = {}
    for key, (rels, st) in walk.objects.items():
        state = states[key]
        if state == ObjectState.OK and st is not None:
            for rel in rels:
                if rel in walk.texts:  # a link (not a pointer file)
                    fresh[blob_id(os.fsencode(walk.texts[rel]), algo)] = (object_relpath(key), st)
        elif state == ObjectState.CORRUPTED:
            detail = (f"the cached object behind this link no longer matches its key {key.name} "
                      "(edited through the link?)")
            walk.problems += [Problem(rel, ProblemKind.CORRUPTED, detail) for rel in rels]
        elif state == ObjectState.MISSING and not known.knows(key):  # fine when the registry holds it
            detail = f"link to {key.name}, which is neither in the cache nor in any known version of this dataset"
            walk.problems += [Problem(rel, ProblemKind.UNKNOWN, detail) for rel in rels]
    return fresh
