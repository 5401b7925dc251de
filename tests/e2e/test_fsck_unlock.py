"""`selenite fsck` and `selenite unlock` on damaged trees, in process against the hostile registry:
destroyed links, an object edited through its link that the registry can no longer replace, links
out of the cache, content not fetched, and what unlock refuses."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.support.cli import selenite_in_process
from tests.support.evilreg import EvilRegistry

FILES = {"a.txt": b"alpha\n", "b.txt": b"beta\n", "d/c.csv": b"x,y\n"}


def run(tree: Path, *args: str) -> tuple[int, str]:
    return selenite_in_process(*args, cwd=tree)


@pytest.fixture
def reg(evilreg: EvilRegistry) -> EvilRegistry:
    evilreg.add_version("p", "a", "v1", FILES)
    return evilreg


def clone(reg: EvilRegistry, tmp_path: Path, *extra: str) -> Path:
    code, err = selenite_in_process("clone", "--url", reg.url, "p/a@v1", str(tmp_path / "t"), *extra, cwd=tmp_path)
    assert code == 0, err
    return tmp_path / "t"


def edit_through(link: Path, data: bytes) -> None:
    obj = link.resolve()
    os.chmod(obj, 0o644)
    obj.write_bytes(data)


def test_a_destroyed_link_is_reported_then_made_a_link_again(reg: EvilRegistry, tmp_path: Path) -> None:
    tree = clone(reg, tmp_path)
    text = os.readlink(tree / "a.txt")
    (tree / "a.txt").unlink()
    (tree / "a.txt").write_text(text)  # an editor that saved the link's text as a file
    code, err = run(tree, "fsck")
    assert code == 1 and "0 corrupted, 1 destroyed link(s); `selenite fsck --repair` fixes them" in err
    code, err = run(tree, "fsck", "--repair")
    assert code == 0 and "a.txt is a link again" in err and "repaired 0 object(s) and 1 link(s)" in err
    assert (tree / "a.txt").is_symlink() and (tree / "a.txt").read_bytes() == FILES["a.txt"]


def test_an_edit_through_a_link_is_kept_as_a_file_even_when_the_registry_lost_the_original(
        reg: EvilRegistry, tmp_path: Path) -> None:
    tree = clone(reg, tmp_path)
    edit_through(tree / "b.txt", b"BETA\n")  # same size: only a hash tells
    for key in [k for k in reg.objects if k.startswith("p/a/")]:
        del reg.objects[key]  # the version is gone from the registry
    code, err = run(tree, "fsck", "--repair")
    assert code == 1, err
    assert "kept the edited bytes of b.txt as a real file" in err
    assert err.splitlines()[-1] == "selenite: error: registry has no file p/a/v1/b.txt: 404 object not found"
    assert not (tree / "b.txt").is_symlink() and (tree / "b.txt").read_bytes() == b"BETA\n"


def test_links_out_of_the_cache_and_content_not_fetched_are_noted(reg: EvilRegistry, tmp_path: Path) -> None:
    code, err = selenite_in_process("clone", "--url", reg.url, "--no-download", "p/a@v1", str(tmp_path / "t"),
                                    cwd=tmp_path)
    assert code == 0, err
    tree = tmp_path / "t"
    (tmp_path / "elsewhere.txt").write_text("not in the cache\n")
    (tree / "out.txt").symlink_to(tmp_path / "elsewhere.txt")
    code, err = run(tree, "fsck")
    assert code == 0
    assert "note: out.txt links outside the cache" in err
    assert "note: 3 object(s) are not fetched (`selenite get` brings them)" in err
    assert "checked 0 object(s): all good" in err


def test_unlock_refuses_what_it_cannot_copy(reg: EvilRegistry, tmp_path: Path) -> None:
    code, err = selenite_in_process("clone", "--url", reg.url, "--no-download", "p/a@v1", str(tmp_path / "lazy"),
                                    cwd=tmp_path)
    assert code == 0, err
    code, err = run(tmp_path / "lazy", "unlock", "a.txt")
    assert code == 1 and "the content of a.txt is not here (1 such): run `selenite get` on the same paths first" in err
    tree = clone(reg, tmp_path)
    edit_through(tree / "b.txt", b"BETA\n")
    code, err = run(tree, "unlock", "b.txt")
    assert code == 1 and "the object behind b.txt was modified: run `selenite fsck --repair` first" in err
    assert (tree / "b.txt").is_symlink()


def test_nothing_to_unlock_in_a_copy_tree(reg: EvilRegistry, tmp_path: Path) -> None:
    tree = clone(reg, tmp_path, "--link-mode", "copy")
    code, err = run(tree, "unlock", "a.txt")
    assert code == 0 and "nothing to unlock: the files of a copy-mode tree are editable as they are" in err
