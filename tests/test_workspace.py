"""workspace and Settings.cwd: a command finds its tree from the directory it was given, never from the
process's own (the CLI reads that once, in ``config.load``)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from selenite import config
from selenite.commands import status
from selenite.errors import NotAWorkingTree
from selenite.workspace import open_tree
from tests.support.cli import selenite
from tests.support.evilreg import EvilRegistry


@pytest.fixture
def work(evilreg: EvilRegistry, tmp_path: Path) -> Path:
    evilreg.add_version("p", "a", "v1", {"a.txt": b"a\n", "sub/b.txt": b"b\n"})
    selenite("clone", "--url", evilreg.url, "p/a@v1", tmp_path / "work")
    return tmp_path / "work"


def test_the_tree_is_found_from_the_settings_directory(work: Path, tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # the process is outside the tree
    root, o, cache = open_tree(config.load(cwd=work / "sub"))
    assert root == work.resolve() and (o.project, o.asset, o.version) == ("p", "a", "v1")
    assert cache.root.resolve() == Path(os.environ["SELENITE_CACHE"]).resolve()
    with pytest.raises(NotAWorkingTree):
        open_tree(config.load(cwd=tmp_path))


def test_status_shows_paths_relative_to_the_directory_it_is_given(work: Path, tmp_path: Path,
                                                                    monkeypatch: pytest.MonkeyPatch,
                                                                    capsys: pytest.CaptureFixture[str]) -> None:
    (work / "sub" / "new.txt").write_text("new\n")
    monkeypatch.chdir(tmp_path)  # the process is outside the tree: only Settings.cwd says where we are
    assert status.status(config.load(cwd=work / "sub")) == 0
    assert capsys.readouterr().out.split() == ["new", "new.txt"]
    assert status.status(config.load(cwd=work), as_json=True) == 0
    doc = json.loads(capsys.readouterr().out)
    assert {p["path"]: p["status"] for p in doc["paths"]} == {"sub/new.txt": "new"}
