"""history: the commit rule's parent choice, identity and tree, against a hostile registry whose
summaries and links the test writes."""

from __future__ import annotations

import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from selenite.cache import Cache
from selenite.errors import FatalError, RegistryError
from selenite.history import History, author_of
from selenite.registry import session_for
from tests.support.evilreg import EvilRegistry


def _version(reg: EvilRegistry, v: str, finish: str, links: dict[str, str] | None = None,
             user: str = "alice") -> None:
    """A version with one file per link (to ``links[path]``'s same path) plus its own file."""
    files = {f"own-{v}.txt": v.encode()}
    manifest = {p: {"size": 1, "md5sum": "0" * 32, "link": {"project": "p", "asset": "a", "version": t, "path": p}}
                for p, t in (links or {}).items()}
    reg.add_version("p", "a", v, files, manifest=manifest)
    reg.put(f"p/a/{v}/..summary", {"upload_user_id": user, "upload_start": finish, "upload_finish": finish})


Factory = Callable[[], History]


@pytest.fixture
def history(evilreg: EvilRegistry, tmp_path: Path) -> Iterator[Factory]:
    root = tmp_path / "r"
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    with session_for(evilreg.url) as client:
        yield lambda: History(root, client, Cache(tmp_path / "cache"), "p", "a", "symlink")


def test_the_parent_is_the_version_linked_most_then_the_one_finished_last_before(evilreg: EvilRegistry,
                                                                                history: Factory) -> None:
    _version(evilreg, "v1", "2026-01-01T00:00:00.000Z")
    _version(evilreg, "v2", "2026-01-02T00:00:00.000Z")
    _version(evilreg, "v3", "2026-01-03T00:00:00.000Z", {"x": "v1", "y": "v1", "z": "v2"})
    _version(evilreg, "v4", "2026-01-04T00:00:00.000Z", {"x": "v1", "z": "v2"})  # a tie: the later one
    _version(evilreg, "v5", "2026-01-05T00:00:00.000Z", {"x": "v9"})  # links to a later version: ignored
    _version(evilreg, "v9", "2026-01-09T00:00:00.000Z", {"x": "v5"})
    h = history()
    assert [h.parent(v) for v in ("v1", "v2", "v3", "v4", "v5", "v9")] == [None, "v1", "v1", "v2", "v4", "v5"]
    commits = h.commits(["v9", "v3"])
    again = history().commits(["v9", "v3"])  # remembered: the same ids, nothing rebuilt
    assert commits == again
    log = subprocess.run(["git", "log", "--format=%s|%an <%ae>|%ad", "--date=iso-strict", commits["v9"]],
                         cwd=h.root, capture_output=True, text=True, check=True).stdout.splitlines()
    assert [line.split("|")[0] for line in log] == ["p/a@v9", "p/a@v5", "p/a@v4", "p/a@v2", "p/a@v1"]
    assert log[0].split("|")[1:] == [f"alice <alice@{evilreg.url.split('//')[1]}>", "2026-01-09T00:00:00+00:00"]


def test_what_a_hostile_summary_can_do(evilreg: EvilRegistry, history: Factory) -> None:
    _version(evilreg, "v1", "yesterday")
    with pytest.raises(RegistryError, match="unreadable upload_finish"):
        history().commits(["v1"])
    _version(evilreg, "v2", "2026-01-01T00:00:00Z", user="Eve <evil@x>\nfrom: me")  # v1 is no candidate parent
    h = history()
    name = "Eve__evil_x__from__me"
    assert author_of("Eve <evil@x>\nfrom: me", "http://u:pw@host:1") == (name, f"{name}@host:1")
    assert subprocess.run(["git", "log", "-1", "--format=%an", h.commits(["v2"])["v2"]], cwd=h.root,
                          capture_output=True, text=True, check=True).stdout.strip() == name
    evilreg.add_version("p", "a", "v3", {"x": b"x"}, finished=False)
    with pytest.raises(FatalError, match="no finished version 'v3'"):
        history().commits(["v3"])
    with pytest.raises(FatalError, match="cannot be a Git ref"):
        history().commits(["-v4"])
