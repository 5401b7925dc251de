"""Version tags: a name is never read as an option by git, and a taken tag is left alone (F13)."""

from __future__ import annotations

from pathlib import Path

from selenite import gitrepo
from selenite.gitrepo import tags
from tests.support.git import git


def test_tag_names_are_never_options(tmp_path: Path) -> None:
    gitrepo.init(tmp_path)
    (tmp_path / "data.csv").write_text("x\n")
    sha = gitrepo.commit(tmp_path, "one", allow_empty=True)
    for bad in ("--file=data.csv", "-v", "v 1", "x.lock", "a\x00b", "HEAD", "@", "FETCH_HEAD"):
        assert tags.tag_name_problem(bad) is not None
        assert tags.tag(tmp_path, bad, sha) is False
    assert tags.tag_name_problem("v1") is None
    assert tags.tag(tmp_path, "v1", sha) is True
    sha2 = gitrepo.commit(tmp_path, "two", allow_empty=True)
    assert tags.tag(tmp_path, "v1", sha2) is False  # taken: kept
    assert git("rev-parse", "v1", cwd=tmp_path).strip() == sha
    assert git("tag", cwd=tmp_path).split() == ["v1"]
