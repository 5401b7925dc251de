"""Moving a working tree between version commits: what ``fetch``, ``pull`` and ``checkout`` share.

Git moves HEAD, the index and the committed part of the tree (links in a symlink tree, the record
in a hardlink/copy tree); ``settle`` then makes the rest consistent: the origin recorded, the
content of the paths that changed fetched (only what the cache lacks, only what the tree's
selection takes) and, in a hardlink/copy tree, the files placed. A kill at any point leaves a tree
that ``selenite get`` (or the same command again) finishes: Git's own moves are atomic, and
``settle`` only adds content.
"""

from __future__ import annotations

import shlex
from collections.abc import Mapping, Sequence
from pathlib import Path

from selenite import gitrepo, output, registry
from selenite.cache import Cache
from selenite.errors import FatalError, RegistryError
from selenite.gitfilter import DRIVER
from selenite.gitrepo import history as githistory
from selenite.gitrepo import tags
from selenite.gitrepo.listings import Listings
from selenite.history import LATEST_REF, History
from selenite.keys import Key
from selenite.transfer import fetch_objects, resolve_sources
from selenite.tree.entry import PathStatus
from selenite.tree.layout import Layout, layout_of, mode_to_record
from selenite.tree.modes import SYMLINK
from selenite.tree.origin import Origin, record_origin, require_origin
from selenite.tree.selection import selected
from selenite.util import atomic_write

_EDITS = (PathStatus.MODIFIED, PathStatus.NEW, PathStatus.DELETED, PathStatus.MOVED)


def history_of(root: Path, client: registry.RegistryClient, cache: Cache, o: Origin, jobs: int) -> History:
    """The commit rule for this tree: its asset, in its link-mode family."""
    return History(root, client, cache, o.project, o.asset, layout_of(root).mode, jobs)


def fetch_versions(hist: History, base: str, version: str | None) -> tuple[dict[str, str], str | None]:
    """Commits (and tags) for ``version``, else for every version finished after ``base`` and the
    registry's latest; ``refs/remotes/registry/latest`` follows the latest. ({version: commit}, latest)."""
    latest = hist.client.latest(hist.project, hist.asset)
    if version is not None:
        wanted = [version]
    else:
        mine = hist.facts(base)
        wanted = [v for v in hist.all_versions()
                  if (f := hist.facts(v)) is not None and (mine is None or f.order > mine.order)]
        wanted.sort(key=lambda v: hist.require(v).order)
    if latest is not None and latest not in wanted:
        wanted.append(latest)
    shas = hist.commits(wanted)
    if latest is not None:
        githistory.set_ref(hist.root, LATEST_REF, shas[latest], f"fetch: the registry's latest is {latest}")
    return shas, latest


def listing_at(hist: History, version: str) -> dict[str, Key]:
    return {p: s.key for p, s in hist.specs(version).items()}


def refuse_collisions(root: Path, cache: Cache, layout: Layout, verb: str, target: str,
                      target_listing: Mapping[str, Key]) -> None:
    """Refuse (one line) when moving to commit ``target`` would overwrite uncommitted edits, as Git
    does. A hardlink/copy tree's data is not Git's, so its edits are read from a scan."""
    head = gitrepo.head(root)
    if layout.mode == SYMLINK:
        edited = set(githistory.dirty_paths(root))
        changed = set(githistory.changed_paths(root, head, target)) if head else set(target_listing)
    else:
        # A deletion the target makes too loses nothing (as Git allows it).
        edited = {e.path for e in layout.scan(cache, check_objects=False) if e.status in _EDITS
                  and not (e.status == PathStatus.DELETED and e.path not in target_listing)}
        old = layout.last_listing(cache)
        changed = {p for p in old.keys() | target_listing.keys() if old.get(p) != target_listing.get(p)}
        edited |= set(githistory.dirty_paths(root)) if head else set()
    hit = sorted(edited & changed)
    if hit:
        more = f" (and {len(hit) - 1} more)" if len(hit) > 1 else ""
        if layout.mode == SYMLINK:
            advice = "commit them (or move them away) first"
        else:  # Git holds no data file of this tree: a commit would not keep the edit, a copy does
            mine = f"{shlex.quote(hit[0])} {shlex.quote(hit[0] + '.mine')}"
            advice = (f"the version changes {'them' if more else 'it'} too, and Git does not hold a {layout.mode} "
                      f"tree's data files: move your copy away (e.g. `mv {mine}`), {verb}, then bring your "
                      "changes back")
        raise FatalError(f"{verb} would overwrite your uncommitted edits to {hit[0]}{more}: {advice}; "
                         "nothing was changed")


_PENDING = "move-pending"  # in <git-dir>/selenite: HEAD before a pull/checkout whose settle has not finished


def _pending_path(root: Path) -> Path:
    return gitrepo.git_dir(root) / "selenite" / _PENDING


def old_state(root: Path, cache: Cache) -> tuple[str | None, dict[str, Key]]:
    """What ``settle`` compares with: HEAD and the tree's last-version listing before the move.
    Remembered until ``settle`` is done, so a killed pull or checkout is finished by the next one."""
    head = gitrepo.head(root)
    if head is not None:
        atomic_write(_pending_path(root), head.encode())
    return head, layout_of(root).last_listing(cache)


def resume(root: Path, cache: Cache, client: registry.RegistryClient, *, download: bool, jobs: int) -> None:
    """Finish the ``settle`` of a pull or checkout that was killed after Git moved the tree."""
    try:
        head = _pending_path(root).read_text().strip()
    except (OSError, UnicodeDecodeError):
        return
    if githistory.resolve(root, head) != head:  # not a commit of this repository: not ours to trust
        _pending_path(root).unlink(missing_ok=True)
        return
    output.info("finishing an interrupted pull or checkout first")
    # The listing before the move is not remembered: every path counts as changed.
    settle(root, cache, client, (head, {}), download=download, jobs=jobs)


def settle(root: Path, cache: Cache, client: registry.RegistryClient, before: tuple[str | None, dict[str, Key]],
           *, download: bool, jobs: int, new_rev: str | None = None) -> Origin:
    """After HEAD moved: record the origin HEAD now names, fetch the content of the paths that
    changed (absent from the cache, selected), and place files where the layout needs them.
    ``new_rev``: what the tree moved towards when HEAD did not move (a merge stopped by conflicts)."""
    layout = layout_of(root)
    o = require_origin(root)
    record_origin(root, o, mode_to_record(root))
    old_head, old_listing = before
    new_head = new_rev or gitrepo.head(root)
    if layout.mode == SYMLINK and old_head is not None and new_head is not None:
        changed = set(githistory.changed_paths(root, old_head, new_head))
    else:
        new_listing = layout.last_listing(cache)
        changed = {p for p in old_listing.keys() | new_listing.keys() if old_listing.get(p) != new_listing.get(p)}
    selection = selected(root)
    entries = [e for e in layout.scan(cache, include_deleted=False)
               if e.status == PathStatus.CONTENT_MISSING and e.key is not None and selection(e.path)]
    wanted = [e for e in entries if e.path in changed]
    keys = {e.key for e in wanted if e.key is not None and not cache.ensure_local(e.key)}
    if download and keys:
        fetch_objects(client, cache, resolve_sources(client, cache, o, keys), jobs)
        output.info(f"got the content of {len(wanted)} changed file(s)")
    layout.materialize(cache, [e for e in entries if e.key is not None and cache.has(e.key)], whole_tree=True)
    _pending_path(root).unlink(missing_ok=True)
    return o


def commit_local(root: Path, message: str | None, spec: str, known: Mapping[str, bytes] | None = None,
                 blobs: Sequence[bytes] = (), *, all_committed: bool = False) -> str | None:
    """Before a pushed tree is relinked: what the user has not committed yet becomes one commit of
    theirs (carrying ``message``), so ``commit_pushed`` keeps it with their others. Returns HEAD.
    ``known``: the blob the filter would make of some paths (a pushed file's pointer, its bytes in
    the cache already), staged as it is instead of read through the filter again; ``blobs``: more
    blobs the caller will stage next, written in the same pack. ``all_committed``: Git's listings
    found nothing uncommitted when the push began, so nothing is listed, staged nor compared (each
    `git diff-files` or `git add` re-runs the clean filter, a Python process, on a file edited in
    the second its commit wrote the index)."""
    if all_committed and (head := gitrepo.head(root)) is not None:
        return head
    if known:
        _add_all_knowing(root, known, blobs)
    else:
        gitrepo.add_all(root)
    head = gitrepo.head(root)
    tree = githistory.index_tree(root)
    if head is None or tree != githistory.tree_of(root, head):
        text = f"{message or 'local changes'}\n\n(published as {spec})\n"
        if not known:
            return gitrepo.commit(root, text, allow_empty=True)
        # `git commit` would refresh the index first, reading every known path through the
        # filter again (their entries have no stat data yet; the relinking and its `git add` follow).
        head = githistory.commit_tree(root, tree, head, text)
        githistory.set_ref(root, "HEAD", head, f"your changes, published as {spec}")
    return head


def _add_all_knowing(root: Path, known: Mapping[str, bytes], blobs: Sequence[bytes]) -> None:
    """``git add --all``, with the blobs of the ``known`` paths written in one pack and set in the
    index directly: only the other changed or untracked paths go through ``git add`` (and so the
    filter, one round trip and one loose object each)."""
    lists = Listings(root, "changed", "untracked")
    try:
        dirty = [*lists.changed(), *lists.untracked()]
    finally:
        lists.close()
    # Only where Git would run selenite's filter (attributes may turn it off for some paths).
    mine = sorted(githistory.with_filter(root, [p for p in dict.fromkeys(dirty) if p in known], DRIVER))
    ids = githistory.write_blobs(root, [*(known[p] for p in mine), *blobs])[:len(mine)]
    githistory.set_index_entries(root, [(githistory.MODE_FILE, sha, 0, p) for p, sha in zip(mine, ids, strict=True)])
    staged = set(mine)
    githistory.add_paths(root, [p for p in dict.fromkeys(dirty) if p not in staged])


def commit_pushed(root: Path, cache: Cache, client: registry.RegistryClient, o: Origin, local: str | None,
                  message: str | None, summary: str) -> str:
    """After the registry accepted ``o.version`` and the tree was relinked (its index staged): the
    branch moves to the version's commit by the commit rule, as ``git svn dcommit`` does, so the
    pusher's history is everyone's. The user's commits since the base (``local``, from
    ``commit_local``) stay under ``refs/selenite/pushed/<version>`` and in the reflog. When the
    tree is not exactly that commit's tree (links out of the tree published as files, a file that
    changed during the push), the staged tree is committed as before instead, with the trailers,
    and a note says so."""
    spec = f"{o.project}/{o.asset}@{o.version}"
    staged = githistory.index_tree(root)
    try:
        sha: str | None = history_of(root, client, cache, o, 8).commits([o.version])[o.version]
    except (FatalError, RegistryError) as e:  # published already: the tree must still be committed
        output.info(f"note: no version commit for {spec} ({e})")
        sha = None
    if sha is None or githistory.tree_of(root, sha) != staged:
        output.info(f"note: the tree differs from {spec} as published (e.g. links out of the tree were sent as "
                    "files): committed as a local commit on top of yours")
        sha = gitrepo.commit(root, gitrepo.version_message(message or spec, o.url, o.project, o.asset, o.version,
                                                           summary), allow_empty=True)
        tags.tag(root, o.version, sha)
        return sha
    if local is not None and not githistory.is_ancestor(root, local, sha):
        githistory.set_ref(root, f"refs/selenite/pushed/{o.version}", local, f"your commits published as {spec}")
    githistory.set_ref(root, "HEAD", sha, f"push: {spec} is the registry's version commit")
    return sha
