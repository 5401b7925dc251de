"""The hostile test registry itself answers as the client expects: a benign version clones."""

from __future__ import annotations

from pathlib import Path

from tests.support.cli import selenite
from tests.support.evilreg import EvilRegistry
from tests.support.files import tree_files


def test_a_benign_version_clones_from_the_hostile_registry(evilreg: EvilRegistry, tmp_path: Path) -> None:
    files = {"a.txt": b"alpha\n", "d/b.csv": b"x,y\n", "c.bin": b"\0" * 300_000}
    evilreg.add_version("p", "a", "v1", files)
    selenite("clone", "--url", evilreg.url, "p/a", tmp_path / "t")
    assert tree_files(tmp_path / "t") == files
    assert evilreg.requested("POST", "/_selenite/objects"), "the small files came in one batch"
    assert evilreg.requested("GET", "/file/p%2Fa%2Fv1%2Fc.bin"), "the big one alone"


def test_batch_route_can_be_switched_off(evilreg: EvilRegistry, tmp_path: Path) -> None:
    evilreg.batching = False
    files = {"a.txt": b"alpha\n", "b.txt": b"beta\n"}
    evilreg.add_version("p", "a", "v1", files)
    selenite("clone", "--url", evilreg.url, "p/a@v1", tmp_path / "t", "--link-mode", "copy")
    assert tree_files(tmp_path / "t") == {
        **files,
        ".selenite/tree.json": (tmp_path / "t/.selenite/tree.json").read_bytes(),
    }
    assert len(evilreg.requested("GET", "/file/")) >= 2
