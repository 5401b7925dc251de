"""gitrepo's plumbing for the check: the parallel listings, config reads, and one translation of
git failures."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from selenite import gitrepo
from selenite.errors import FatalError
from selenite.gitrepo.listings import Listings, Staged, index_entry


def _git(cwd: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True).stdout


def test_listings_before_and_after_the_first_commit(repo: Path) -> None:
    (repo / "a.txt").write_text("a\n")
    (repo / "link").symlink_to("a.txt")
    _git(repo, "add", "a.txt", "link")
    views = Listings(repo, "index", "untracked", "staged", "changed")
    assert not views.has_head and views.git_dir == repo / ".git"
    assert views.staged() == {}  # no HEAD yet: nothing to compare against, and no process started
    entries = {path: index_entry(meta) for path, meta in views.index().items()}
    assert entries["link"] is not None and entries["link"].mode == "120000"
    assert entries["a.txt"] == (entries["a.txt"] and entries["a.txt"]._replace(mode="100644"))
    views.close()

    _git(repo, "commit", "-q", "-m", "one")
    (repo / "a.txt").write_text("changed\n")
    (repo / "new file\t.txt").write_text("n\n")
    (repo / "b.txt").write_text("b\n")
    _git(repo, "add", "b.txt")
    views = Listings(repo, "index", "untracked", "staged", "changed")
    assert views.has_head
    assert views.untracked() == ["new file\t.txt"]
    assert views.changed() == ["a.txt"]
    (change,) = views.staged().values()
    assert isinstance(change, Staged) and change.status == "A" and change.new_mode == "100644"
    assert views.index_meta({"b.txt": None}).keys() == {"b.txt"}


def test_listings_keep_the_callers_index_file(repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (repo / "a.txt").write_text("a\n")
    _git(repo, "add", "a.txt")
    monkeypatch.setenv("GIT_INDEX_FILE", str(tmp_path / "other-index"))  # what `git commit -a` does
    assert Listings(repo, "index").index() == {}


def test_outside_a_repository(tmp_path: Path) -> None:
    with pytest.raises(FatalError, match="not inside a git working tree"):
        Listings(tmp_path, "index")
    with pytest.raises(FatalError, match="not inside a git working tree"):
        gitrepo.toplevel(tmp_path)


def test_config_reads(repo: Path) -> None:
    assert gitrepo.config_int(repo, "selenite.largefiles") is None
    _git(repo, "config", "selenite.largefiles", "10k")
    assert gitrepo.config_int(repo, "selenite.largefiles") == 10240
    _git(repo, "config", "selenite.largefiles", "ten")
    with pytest.raises(ValueError, match="ten"):
        gitrepo.config_int(repo, "selenite.largefiles")
    _git(repo, "config", "selenite.url", "http://h:1")
    _git(repo, "config", "selenite.project", "p")
    assert gitrepo.config_section(repo, "selenite") == {"largefiles": "ten", "url": "http://h:1", "project": "p"}
    assert gitrepo.config_get(repo, "selenite.project", local=True) == "p"
    assert gitrepo.config_get(repo, "selenite.nothing") is None


def test_a_git_failure_is_one_line(repo: Path) -> None:
    plain = repo.parent / "plain"  # no repository here
    plain.mkdir()
    with pytest.raises(FatalError, match=r"^git rev-parse failed: [^\n]*\S$"):
        gitrepo.git_dir(plain)
    assert gitrepo.head(repo) is None  # a question whose answer is "no", not an error


def test_a_vanished_folder_is_refused_not_run_elsewhere(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(repo)  # GitPython would run git here, and answer for this repository
    with pytest.raises(FatalError, match="no such folder"):
        gitrepo.git_dir(repo / "missing")
    with pytest.raises(FatalError, match="no such folder"):
        Listings(repo / "missing", "index")
