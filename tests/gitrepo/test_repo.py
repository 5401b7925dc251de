"""gitrepo: trailers, tags, identity fallback, ls-files view."""

from __future__ import annotations

from pathlib import Path

import pytest

from selenite import gitrepo
from selenite.errors import NotAWorkingTree
from selenite.gitrepo import tags


def test_commit_trailers_tag_and_ls_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = tmp_path / "r"
    root.mkdir()
    gitrepo.init(root)
    (root / "a").write_text("1")
    (root / ".gitignore").write_text("ignored\n")
    (root / "ignored").write_text("x")
    for k in ("GIT_AUTHOR_NAME", "GIT_AUTHOR_EMAIL", "GIT_COMMITTER_NAME", "GIT_COMMITTER_EMAIL"):
        monkeypatch.delenv(k, raising=False)  # a machine without an identity still commits
    gitrepo.add_all(root)
    msg = gitrepo.version_message("p/a@v1", "http://h:1", "p", "a", "v1")
    sha = gitrepo.commit(root, msg)
    assert gitrepo.head(root) == sha
    assert tags.tag(root, "v1", sha) and not tags.tag(root, "v1", sha) and not tags.tag(root, "bad..name", sha)
    found = gitrepo.last_version_commit(root)
    assert found is not None and found[0] == sha
    assert found[1] == {"Selenite-Registry": "http://h:1", "Selenite-Version": "p/a/v1"}
    (root / "new").write_text("n")
    (root / "a").unlink()
    assert sorted(gitrepo.ls_files(root)) == [".gitignore", "a", "new"]
    assert gitrepo.find_root(root / ".git" / "..") == root
    with pytest.raises(NotAWorkingTree):
        gitrepo.find_root(tmp_path)
