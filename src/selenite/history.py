"""The commit rule: a registry version's Git commit, from the registry's answers alone.

docs/user/history.md states the rule for users; in short, the commit of ``P/A@V`` in a tree of one
link-mode family (symlink, hardlink or copy) is a pure function of the version and the family:

- tree: what a clone in that family holds (symlink: one link per file, whose text is
  ``tree.links.link_text``, and the files Git reads itself as regular files; hardlink/copy: the
  record ``.selenite/tree.json`` alone);
- author = committer: the ``..summary``'s ``upload_user_id`` as ``NAME <NAME@HOST>``, HOST the
  registry's host[:port]; date: its ``upload_finish`` (UTC);
- message: ``P/A@V`` and the trailers (``gitrepo.version_message``);
- parent: the commit of the version of the same asset that the manifest's links name most often
  (ties: later ``upload_finish``, then the greater name); with no such link, the version finished
  last before it (probational ones included); else none. Only versions finished strictly before
  (by finish time, then name) count, so a hostile registry cannot make a cycle.

Versions are immutable: their manifests and facts (uploader, finish) are kept in the cache, and
each commit built is remembered in the repository as ``refs/selenite/versions/<family>/<version>``,
so a version's ancestors are computed once per tree. Only the versions asked for are tagged.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from selenite import gitfiles, gitrepo, registry
from selenite.cache import OK, Cache, read_object, registry_id
from selenite.errors import FatalError, NotFound, RegistryError
from selenite.gitrepo import history as githistory
from selenite.gitrepo import tags
from selenite.keys import Key
from selenite.manifests import FileSpec, parse_manifest
from selenite.transfer import fetch_objects
from selenite.tree import records
from selenite.tree.links import link_text
from selenite.tree.modes import SYMLINK

LATEST_REF = "refs/remotes/registry/latest"  # the registry's latest version, as `selenite fetch` last saw it
_USER_UNSAFE = re.compile(r"[^A-Za-z0-9._+-]")


class Facts:
    """What a finished version's commit takes from its ``..summary``."""

    def __init__(self, version: str, user: str, finish: str) -> None:
        self.version, self.user, self.finish = version, user, finish
        try:
            moment = datetime.fromisoformat(finish)
        except ValueError:
            raise RegistryError(f"the summary of version {version!r} has an unreadable upload_finish") from None
        self.when = int((moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp())
        if self.when < 0:
            raise RegistryError(f"the summary of version {version!r} has an upload_finish before 1970")

    @property
    def order(self) -> tuple[str, str]:
        # ISO-8601 UTC timestamps of one registry share a format: they order as strings.
        return (self.finish, self.version)


def author_of(user: str, url: str) -> tuple[str, str]:
    """(name, email) of a version's commit: the uploader's id, cleaned to what an ident may hold."""
    name = _USER_UNSAFE.sub("_", user)[:100] or "unknown"
    host = urlsplit(url).netloc.rpartition("@")[2] or "registry"
    return name, f"{name}@{host}"


class History:
    """Version commits of one asset in one tree (``root``) of one family."""

    def __init__(self, root: Path, client: registry.RegistryClient, cache: Cache, project: str, asset: str,
                 family: str, jobs: int = 8, listings: Mapping[str, dict[str, Key]] | None = None,
                 *, new_repository: bool = False) -> None:
        self.root, self.client, self.cache = root, client, cache
        self._new = new_repository  # a repository just made: no version commit to look up in it
        # Checked listings the caller holds already (clone's version): its manifest is not read again.
        self._listings = dict(listings or {})
        self.project, self.asset, self.family, self.jobs = project, asset, family, jobs
        self.url = client.url
        self.reg = registry_id(client.url)
        self._facts: dict[str, Facts | None] = {}
        self._manifests: dict[str, dict[str, Any]] = {}
        self._all: list[str] | None = None
        self._stable: set[str] = set()  # finished, approved versions read this run: their manifests are kept

    # --- the registry's answers (cached: versions are immutable) ---------------------------------

    def facts(self, version: str) -> Facts | None:
        """A version's uploader and finish time; None when it is unfinished or absent."""
        if version in self._facts:
            return self._facts[version]
        found: Facts | None = None
        kept = self.cache.load_facts(self.reg, self.project, self.asset, version)
        if kept is not None and "user" in kept and "finish" in kept:
            found = Facts(version, kept["user"], kept["finish"])
        else:
            try:
                summary = self.client.summary(self.project, self.asset, version)
            except NotFound:
                summary = {}
            finish, user = summary.get("upload_finish"), summary.get("upload_user_id")
            if isinstance(finish, str) and finish:
                found = Facts(version, user if isinstance(user, str) else "", finish)
                if not summary.get("on_probation"):
                    self._stable.add(version)
                self.cache.save_facts(self.reg, self.project, self.asset, version,
                                      {"user": found.user, "finish": found.finish})
        self._facts[version] = found
        return found

    def manifest(self, version: str) -> dict[str, Any]:
        if version not in self._manifests:
            m = self.cache.load_manifest(self.reg, self.project, self.asset, version)
            if m is None:
                m = self.client.manifest(self.project, self.asset, version)
                if version in self._stable:  # kept as `lookup.resolve_version` keeps it: a later clone asks nothing
                    listing = {p: s.key for p, s in parse_manifest(m, self.project, self.asset, version).items()}
                    self.cache.save_manifest(self.reg, self.project, self.asset, version, m)
                    self.cache.set_ref(self.reg, self.project, self.asset, version, self.cache.put_tree(listing))
            self._manifests[version] = m
        return self._manifests[version]

    def specs(self, version: str) -> dict[str, FileSpec]:
        return parse_manifest(self.manifest(version), self.project, self.asset, version)

    def all_versions(self) -> list[str]:
        if self._all is None:
            self._all = self.client.list_versions(self.project, self.asset)
        return self._all

    # --- the rule ---------------------------------------------------------------------------------

    def parent(self, version: str) -> str | None:
        """The version whose commit is ``version``'s parent (the module's docstring), or None.
        Kept with the version's facts: only removing a version can change it."""
        me = self.require(version)
        kept = self.cache.load_facts(self.reg, self.project, self.asset, version) or {}
        if "parent" in kept:
            return kept["parent"] or None
        found = self._parent(version, me)
        self.cache.save_facts(self.reg, self.project, self.asset, version,
                              {"user": me.user, "finish": me.finish, "parent": found or ""})
        return found

    def _parent(self, version: str, me: Facts) -> str | None:
        linked: Counter[str] = Counter()
        for entry in self.manifest(version).values():
            link = entry.get("link") if isinstance(entry, dict) else None
            if isinstance(link, dict) and (link.get("project"), link.get("asset")) == (self.project, self.asset):
                target = link.get("version")
                if isinstance(target, str) and target != version:
                    linked[target] += 1
        earlier = {v: f for v in linked if (f := self._candidate(v)) is not None and f.order < me.order}
        if earlier:
            return max(earlier, key=lambda v: (linked[v], earlier[v].order))
        before = [f for v in self.all_versions() if v != version and (f := self._candidate(v)) is not None
                  and f.order < me.order]
        return max(before, key=lambda f: f.order).version if before else None

    def _candidate(self, version: str) -> Facts | None:
        """A possible parent's facts; a version whose summary is unreadable is no candidate."""
        try:
            return self.facts(version)
        except RegistryError:
            self._facts[version] = None
            return None

    def require(self, version: str) -> Facts:
        if (why := tags.tag_name_problem(version)) is not None:
            raise FatalError(f"version {version!r} of {self.project}/{self.asset} {why}: it cannot be a Git ref")
        found = self.facts(version)
        if found is None:
            raise FatalError(f"{self.project}/{self.asset} has no finished version {version!r}")
        return found

    def memo_ref(self, version: str) -> str:
        return f"refs/selenite/versions/{self.family}/{version}"

    def entries(self, version: str) -> list[githistory.Entry]:
        """The files of ``version``'s commit tree in this family."""
        listing = self._listings.get(version)
        if listing is None:
            listing = {p: s.key for p, s in self.specs(version).items()}
        if self.family != SYMLINK:
            return [githistory.Entry(githistory.MODE_FILE, records.RECORD, records.record_bytes(self.family, listing))]
        read = {p: k for p, k in listing.items() if gitfiles.read_by_git(p)}
        if any(self.cache.state(k) != OK for k in read.values()):  # their bytes are in the tree: fetched
            specs = self.specs(version)  # (they are small) from where the manifest says
            fetch_objects(self.client, self.cache, {specs[p].key: specs[p].source for p in read}, self.jobs)
        out = []
        for path, key in sorted(listing.items()):
            if path in read:
                out.append(githistory.Entry(githistory.MODE_FILE, path, _object_bytes(self.cache, key)))
            else:
                out.append(githistory.Entry(githistory.MODE_LINK, path, link_text(path, key).encode()))
        return out

    def commits(self, wanted: list[str]) -> dict[str, str]:
        """{version: commit id} for ``wanted``, building each missing commit and its missing
        ancestors in one batch; each built commit is remembered, each wanted one tagged (a free
        tag name)."""
        known: dict[str, str] = {}
        planned: list[str] = []
        for version in wanted:
            chain: list[str] = []
            current: str | None = version
            while current is not None and current not in known and current not in planned:
                self.require(current)
                sha = None if self._new else githistory.resolve(self.root, self.memo_ref(current))
                if sha is not None:
                    known[current] = sha
                    break
                chain.append(current)
                current = self.parent(current)
            planned.extend(reversed(chain))
        specs = []
        for version in planned:
            parent = self.parent(version)
            facts = self.require(version)
            name, email = author_of(facts.user, self.url)
            title = f"{self.project}/{self.asset}@{version}"
            specs.append(githistory.CommitSpec(
                self.entries(version), name, email, facts.when,
                gitrepo.version_message(title, self.url, self.project, self.asset, version),
                None if parent is None else planned.index(parent) if parent in planned else known[parent]))
        # Each commit lands at its memo ref in the same fast-import run (no update-ref per version).
        memos = [self.memo_ref(v) for v in planned]
        for version, sha in zip(planned, githistory.build_commits(self.root, specs, memos), strict=True):
            known[version] = sha
        for version in wanted:  # not the ancestors: a tag pins its version's content for gc (pins.py)
            tags.tag(self.root, version, known[version])
        return {v: known[v] for v in wanted}


def _object_bytes(cache: Cache, key: Key) -> bytes:
    try:
        return b"".join(read_object(cache, key))
    except OSError as e:
        raise FatalError(f"cannot read the cached content of {key.name}: {e.strerror or e}") from None
