"""Pushing a tree (``Tree.push``, `selenite push`): publish the working tree as a new version,
moving only new bytes. ``push`` returns what it did (``Pushed``); the command prints it.

The order is what keeps every interruption safe:

1. plan (reads only; ``--dry-run`` stops here);
2. abort any upload a killed earlier push left open (its session is remembered in
   ``.git/selenite/push-session.json``), then ``upload/start`` and remember the new session;
3. upload the files in parallel (each batch of small files, once staged, goes into the cache from
   the bytes sent: content-addressed, so harmless if the push fails), then ``upload/complete``;
   any failure or Ctrl-C aborts, so the registry keeps no half version and the project is not
   left locked;
4. only once the registry accepted the version: ingest the other uploaded bytes into the cache,
   replace the files by links, record the tree and its ref, commit and tag.

A ``kill -9`` between 2 and 3 leaves the session file: the next push aborts that session first
(or the server's lock expires), then starts again.
"""

from __future__ import annotations

import contextlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path

from selenite import gitrepo, output, pushfiles, pushplan, registry
from selenite.cache import Cache, registry_id
from selenite.cache.ingest import put_files
from selenite.check.problems import Problem, ProblemKind
from selenite.check.tree import check_tree, listings_for_check
from selenite.config import Settings
from selenite.errors import Conflict, FatalError, NotAWorkingTree, NotFound, RegistryError
from selenite.keys import Key, extension_of, md5_of_file
from selenite.manifests import parse_manifest
from selenite.statcache import StatCache
from selenite.tree.anchor import make_anchor
from selenite.tree.layout import layout_of, mode_to_record
from selenite.tree.origin import Origin, record_origin
from selenite.tree.pointers import pointer
from selenite.treesync import commit_local, commit_pushed
from selenite.util import atomic_write
from selenite.workspace import open_tree

SESSION_FILE = "push-session.json"


@dataclass(frozen=True)
class Pushed:
    """What a push did, or would do (``dry_run``).

    ``version`` is the new version's name (None when there was nothing to push: ``base`` unchanged);
    ``plan`` what is (or would be) sent; ``pushed`` whether the registry now holds ``version``;
    ``summary`` one line of what moved; ``on_probation`` whether owners must approve it;
    ``damaged`` cache objects edited through a link (then nothing was pushed).
    """

    base: str
    project: str
    asset: str
    version: str | None
    plan: pushplan.Plan | None
    pushed: bool = False
    summary: str = ""
    on_probation: bool = False
    damaged: list[Problem] = field(default_factory=list)

    @property
    def spec(self) -> str:
        """``PROJECT/ASSET/VERSION`` of the new version (``PROJECT/ASSET/`` when there is none)."""
        return f"{self.project}/{self.asset}/{self.version or ''}"


def _session_path(root: Path) -> Path:
    return gitrepo.git_dir(root) / "selenite" / SESSION_FILE


def _abort_leftover(client: registry.RegistryClient, root: Path, o: Origin) -> str | None:
    """Abort the upload a killed earlier push left open (a no-op when there is none).

    The session file outlives ``upload/complete`` until the tree is committed, so a push killed in
    between is recognised: its version then exists, finished, and its name is returned (the file
    is kept; the caller removes it once it has finished that push locally)."""
    path = _session_path(root)
    try:
        s = json.loads(path.read_text())
    except FileNotFoundError:
        return None
    except (OSError, ValueError):
        path.unlink(missing_ok=True)
        return None
    if not isinstance(s, dict):  # not a session selenite wrote: nothing to abort
        path.unlink(missing_ok=True)
        return None
    what = f"{s.get('project')}/{s.get('asset')}/{s.get('version')}"
    try:
        client.upload_abort(str(s["abort_url"]), str(s["session_token"]), what)
        output.info(f"aborted the unfinished upload of {what} left by an earlier push")
    except RegistryError as e:
        if e.status is None:
            raise  # the registry is unreachable: keep the file, try again next time
        # 403 "not previously locked" / "different session": completed, or the lock expired.
        if (s.get("project"), s.get("asset")) == (o.project, o.asset) and isinstance(s.get("version"), str):
            try:
                if client.summary(o.project, o.asset, s["version"]).get("upload_finish"):
                    return str(s["version"])
            except RegistryError:
                pass
    path.unlink(missing_ok=True)
    return None


def _holds_plan(client: registry.RegistryClient, o: Origin, version: str, plan: pushplan.Plan) -> bool:
    """The registry's ``version`` lists exactly the plan's paths with the plan's contents."""
    manifest = client.manifest(o.project, o.asset, version)
    specs = parse_manifest(manifest, o.project, o.asset, version)
    return {p: s.key.content() for p, s in specs.items()} == {i.path: i.key.content() for i in plan.items}


def _still_holds(root: Path, item: pushplan.Item, hashes: StatCache) -> bool:
    """The file at ``item.path`` still has the bytes that were pushed (stat cache, else re-hash)."""
    full = root / item.path
    try:
        st = os.stat(full)
    except OSError:
        return False
    if hashes.lookup(item.path, st) == item.key.md5 and st.st_size == item.key.size:
        return True
    return md5_of_file(full) == (item.key.md5, item.key.size)


def _executable(path: Path | None) -> bool:
    """Git stages such a file with mode 100755 (or keeps its index mode): left to `git add`."""
    try:
        return path is None or bool(os.stat(path).st_mode & 0o111)
    except OSError:
        return True


def _finish_locally(root: Path, cache: Cache, client: registry.RegistryClient, o: Origin,
                    version: str, plan: pushplan.Plan, hashes: StatCache, message: str | None, summary: str,
                    all_committed: bool = False) -> None:
    """After the registry accepted the version: cache, links, tree, ref, commit, tag
    (``all_committed``: the push began with nothing uncommitted, see ``commit_local``)."""
    layout = layout_of(root)
    relinked: list[str] = []
    todo: list[tuple[pushplan.Item, bool]] = []  # (item, whether its bytes are the tree's file)
    for item in plan.items:
        if not item.relink:
            continue
        in_tree = item.source is not None and item.source == root / item.path
        if in_tree and not _still_holds(root, item, hashes):
            output.error(f"selenite: warning: {item.path} changed during the push; kept as a file "
                         "(push again to publish it)")
            continue
        todo.append((item, in_tree))
    # One flush per batch of new objects, not an fsync each (cache/ingest.py).
    wrong = put_files(cache, [(i.source, i.key, i.path) for i, _ in todo
                              if i.source is not None and not cache.has(i.key)])
    # The new files' bytes are in the cache now. The user's commit stages what the filter would
    # make of each (a pointer naming the key with the path's own extension) without running it;
    # a file it still reads (gitfilter.clean) is recognised by hash, with no fsync of its own.
    known = {i.path: pointer(Key(i.key.md5, i.key.size, extension_of(i.path))) for i, in_tree in todo
             if in_tree and i.source not in wrong and not _executable(i.source)}
    # The links about to replace them: their blobs go into the same pack, so the `git add` of the
    # relinked tree finds every one stored already (not a loose object file each).
    links = [b for i, _ in todo if (b := layout.pushed_blob(i.path, i.key)) is not None]
    local = commit_local(root, message, f"{o.project}/{o.asset}@{version}", known, links,
                         all_committed=all_committed)
    for item, in_tree in todo:
        if in_tree and item.source in wrong:
            output.error(f"selenite: warning: {item.path} changed during the push; kept as a file")
            continue
        # (A gypsum cache file with other bytes: the link stays dangling until `selenite get`.)
        if layout.after_push(cache, item.path, item.key, hashes):
            relinked.append(item.path)
    layout.record_pushed(cache, plan.listing(), relinked, hashes)
    reg = registry_id(o.url)
    try:
        manifest = client.manifest(o.project, o.asset, version)
        cache.save_manifest(reg, o.project, o.asset, version, manifest)
    except RegistryError:
        pass  # only an optimisation: the next command fetches it
    cache.set_ref(reg, o.project, o.asset, version, cache.put_tree(plan.listing()))
    gitrepo.add_all(root)
    commit_pushed(root, cache, client, Origin(o.url, o.project, o.asset, version), local, message, summary)
    record_origin(root, Origin(o.url, o.project, o.asset, version), mode_to_record(root))


def _on_probation(client: registry.RegistryClient, o: Origin, version: str) -> bool:
    try:
        return bool(client.summary(o.project, o.asset, version).get("on_probation"))
    except RegistryError:
        return False  # only a note in the output


def _gypsum_origin(folder: Path, url: str | None) -> Origin | None:
    """The version a folder made by ``gypsum_client.clone_version`` came from: every link into a
    gypsum cache must name one project and asset (the newest version among them is the origin)."""
    found: set[tuple[str, str]] = set()
    versions: list[str] = []
    for dirpath, _dirs, files in os.walk(folder):
        if ".git" in Path(dirpath).relative_to(folder).parts:
            continue
        for name in files:
            full = os.path.join(dirpath, name)
            if os.path.islink(full) and (loc := pushplan.gypsum_location(os.readlink(full))) is not None:
                found.add((loc.project, loc.asset))
                versions.append(loc.version)
    if not found:
        return None
    if len(found) > 1:
        raise FatalError(f"{folder} links into {len(found)} different gypsum assets: push needs one")
    if not url:
        raise FatalError("this folder came from gypsum_client: name its registry with --url or SELENITE_URL")
    (project, asset), version = found.pop(), max(versions)
    return Origin(url, project, asset, version)


def _adopt(settings: Settings, cwd: Path) -> None:
    """Turn a folder made by ``gypsum_client.clone_version`` into a selenite working tree (git init,
    origin, anchor), so that it pushes as links and stays a working tree afterwards."""
    o = _gypsum_origin(cwd, settings.named_url)
    if o is None:
        raise NotAWorkingTree(
            f"{cwd} is not a selenite working tree (clone one with `selenite clone`) "
            "nor a folder made by gypsum_client"
        )
    if not (cwd / ".git").exists():
        gitrepo.init(cwd)
    record_origin(cwd, o, mode_to_record(cwd))
    cache = Cache(settings.cache_dir)
    make_anchor(cwd, cache)
    cache.register_worktree(cwd, o.url)
    output.info(f"adopting this gypsum_client folder as a working tree of {o.project}/{o.asset} (from {o.version})")


def _stale_base(client: registry.RegistryClient, o: Origin, latest: str | None) -> bool:
    """``latest`` is not the tree's base and was published after it: pushing would drop its changes.
    A base published after ``latest`` (a version still on probation) is not stale."""
    if latest is None or latest == o.version:
        return False
    try:
        base_finish = client.summary(o.project, o.asset, o.version).get("upload_finish")
        latest_finish = client.summary(o.project, o.asset, latest).get("upload_finish")
    except NotFound:
        return True  # the base was removed from the registry: latest is all there is
    # Both are the registry's ISO-8601 UTC timestamps of one format: they order as strings.
    return not (isinstance(base_finish, str) and isinstance(latest_finish, str) and base_finish > latest_finish)


def push(settings: Settings, *, version: str | None, probation: bool, dry_run: bool, jobs: int,
         message: str | None, follow_external: bool = False, force: bool = False) -> Pushed:
    """Publish the tree at ``settings.cwd`` (a folder made by gypsum_client is adopted first) as
    ``version`` (default: the next free name), or only plan it (``dry_run``). A tree whose base is no
    longer the latest version is refused (``Conflict``) unless ``force``."""
    try:
        root, o, cache = open_tree(settings)
    except NotAWorkingTree:
        if dry_run:
            raise
        _adopt(settings, settings.cwd)
        root, o, cache = open_tree(settings)
    # One set of Git's listings for the check and the plan: each `git diff-files` re-runs the clean
    # filter (a Python process) on a file edited in the second its commit wrote the index.
    views = listings_for_check(root)
    damaged = [p for p in check_tree(root, cache.root, views) if p.kind == ProblemKind.CORRUPTED]
    if damaged:
        # The registry would publish the key's old bytes while this tree shows the edited ones.
        return Pushed(o.spec, o.project, o.asset, None, None, damaged=damaged)
    endpoint = settings.endpoint(o.url)
    with registry.session_for(*endpoint.pair(), jobs) as client, \
            contextlib.closing(StatCache(gitrepo.git_dir(root) / "selenite" / "hashes.sqlite")) as hashes:
        latest = client.latest(o.project, o.asset)
        plan = pushplan.build(root, cache, client, o, hashes, can_dedup=latest is not None, jobs=jobs,
                              follow_external=follow_external, views=views)
        if not dry_run:
            o, finished = _finish_interrupted(client, root, cache, o, plan, hashes, version, message)
            if finished is not None:
                return finished
        if plan.unchanged and version is None:
            return Pushed(o.spec, o.project, o.asset, None, plan)
        if not force and _stale_base(client, o, latest):
            # As `git push` refuses a non-fast-forward: the new version would silently drop latest's changes.
            raise Conflict(f"the registry has {latest}; `selenite pull` first, or `--force` to publish anyway")
        name = version or pushplan.next_version(client, o.project, o.asset)
        pushplan.check_version_name(name)
        if dry_run:
            return Pushed(o.spec, o.project, o.asset, name, plan)
        endpoint.need_token()
        summary = _publish(client, root, cache, o, name, plan, probation, jobs)
        # Nothing uncommitted when the push began (what the check and the plan read): no `git add`.
        clean = not (views.changed() or views.untracked() or views.staged())
        _finish_locally(root, cache, client, o, name, plan, hashes, message, summary, all_committed=clean)
        _session_path(root).unlink(missing_ok=True)  # only now: a kill before this is finished by the next push
        # An untrusted uploader's version lands on probation without --probation: say so too.
        probation = probation or _on_probation(client, o, name)
    return Pushed(o.spec, o.project, o.asset, name, plan, pushed=True, summary=summary, on_probation=probation)


def _finish_interrupted(
    client: registry.RegistryClient, root: Path, cache: Cache, o: Origin, plan: pushplan.Plan,
    hashes: StatCache, version: str | None, message: str | None,
) -> tuple[Origin, Pushed | None]:
    """Before naming: an unfinished upload's partial version must not count, and a push killed
    after the registry accepted its version is finished here instead of made twice. Returns the
    origin (moved on when the killed push had committed) and, when that push was the one asked
    for, what it pushed (now finished)."""
    done = _abort_leftover(client, root, o)
    if done is None:
        return o, None
    last = gitrepo.last_version_commit(root)
    if last is not None and last[1].get(gitrepo.TRAILER_VERSION) == f"{o.project}/{o.asset}/{done}":
        # Killed after its commit: only the recorded origin may lag behind.
        o = Origin(o.url, o.project, o.asset, done)
        record_origin(root, o, mode_to_record(root))
        _session_path(root).unlink(missing_ok=True)
        return o, None
    if version in (None, done) and _holds_plan(client, o, done, plan):
        summary = f"{len(plan.items)} files, published by an earlier push that was interrupted"
        _finish_locally(root, cache, client, o, done, plan, hashes, message, summary)
        _session_path(root).unlink(missing_ok=True)
        return o, Pushed(o.spec, o.project, o.asset, done, plan, pushed=True, summary=summary)
    _session_path(root).unlink(missing_ok=True)  # the tree moved on since: a new version
    # That version was this tree's own push: the new one builds on it (it is no stale base).
    return Origin(o.url, o.project, o.asset, done), None


def _publish(client: registry.RegistryClient, root: Path, cache: Cache, o: Origin, name: str, plan: pushplan.Plan,
             probation: bool, jobs: int) -> str:
    """Upload the version (start, files, complete), remembering the session until the caller has
    committed it; any failure or Ctrl-C aborts it. Returns the summary line. The small files sent
    by batches go into the cache from the bytes just sent, while the other batches travel (a
    failed push leaves them there for ``gc``, like any object no tree names)."""
    spec = f"{o.project}/{o.asset}/{name}"
    init = client.upload_start(o.project, o.asset, name, [i.entry() for i in plan.items], on_probation=probation)
    session = _session_path(root)
    remembered = {"project": o.project, "asset": o.asset, "version": name,
                  "abort_url": init["abort_url"], "session_token": init["session_token"]}
    atomic_write(session, json.dumps(remembered).encode(), mode=0o600)
    try:
        def keep(files: list[tuple[Key, bytes]]) -> None:
            cache.put_many([(k, data) for k, data in files if not cache.has(k)])  # one flush per batch

        with cache.deferred_dir_sync():  # the renames made durable by one flush at the end
            sent = pushfiles.send(client, init, plan, (o.project, o.asset, name), jobs, keep)
        client.upload_complete(str(init["complete_url"]), str(init["session_token"]), spec)
    except BaseException as exc:
        aborted = False
        with contextlib.suppress(Exception):
            client.upload_abort(str(init["abort_url"]), str(init["session_token"]), spec)
            aborted = True
        if aborted:
            session.unlink(missing_ok=True)
        if isinstance(exc, KeyboardInterrupt):
            raise
        where = ("the registry holds no trace of it" if aborted else
                 "the registry could not be told to abort; the next `selenite push` does it first")
        raise FatalError(f"push of {spec} failed: {exc} ({where})") from None
    uploaded = len(init.get("file_urls") or [])
    linked = len(plan.items) - uploaded
    return (f"{len(plan.items)} files: {linked} linked, {uploaded} uploaded, {len(plan.deleted)} deleted; "
            f"{output.human_bytes(sent)} uploaded of {output.human_bytes(plan.total_bytes)}")
