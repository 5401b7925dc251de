"""Never lose an edit, never publish the wrong bytes (issue 12, items 8-11 and 17).

Real git, a real `selenite serve`; edits through links are made as a user would (chmod, write).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.conftest import Registry, selenite
from tests.helpers import seed_three_versions

pytestmark = pytest.mark.backends("folder")  # the subject is the client, not the storage


@pytest.fixture
def seeded(registry: Registry, tmp_path: Path) -> dict[str, dict[str, bytes]]:
    return seed_three_versions(registry, tmp_path)


def _edit_through_link(path: Path, data: bytes) -> Path:
    obj = path.resolve()
    os.chmod(obj, 0o644)
    path.write_bytes(data)
    return obj


def test_a_second_clone_keeps_an_edit_made_through_a_link(registry: Registry, seeded: dict[str, dict[str, bytes]],
                                                          tmp_path: Path) -> None:
    selenite("clone", "test/blob@v1", tmp_path / "q1", "--url", registry.url, cwd=tmp_path)
    obj = _edit_through_link(tmp_path / "q1" / "b/c.csv", b"my edit\n")
    r = selenite("clone", "test/blob@v1", tmp_path / "q2", "--url", registry.url, cwd=tmp_path)
    # The object is restored for both trees, and the edited bytes are kept where stderr says.
    assert obj.read_bytes() == seeded["v1"]["b/c.csv"]
    assert (tmp_path / "q2" / "b/c.csv").read_bytes() == seeded["v1"]["b/c.csv"]
    line = next(x for x in r.stderr.splitlines() if "kept at" in x)
    kept = Path(line.split("kept at ", 1)[1].split(", and", 1)[0])
    assert kept.read_bytes() == b"my edit\n"
    assert kept.is_relative_to(Path(os.environ["SELENITE_CACHE"]))


def test_a_second_hardlink_clone_keeps_an_edit_written_in_place(registry: Registry, seeded: dict[str, dict[str, bytes]],
                                                                 tmp_path: Path) -> None:
    h1 = tmp_path / "h1"
    selenite("clone", "test/blob@v1", h1, "--url", registry.url, "--link-mode", "hardlink", cwd=tmp_path)
    os.chmod(h1 / "a.txt", 0o644)
    (h1 / "a.txt").write_bytes(b"edited in place\n")
    r = selenite("clone", "test/blob@v1", tmp_path / "h2", "--url", registry.url, "--link-mode", "hardlink", cwd=tmp_path)
    assert "kept at" in r.stderr
    assert (h1 / "a.txt").read_bytes() == b"edited in place\n"  # the tree's file kept its bytes
    assert (tmp_path / "h2" / "a.txt").read_bytes() == seeded["v1"]["a.txt"]


@pytest.mark.parametrize("mode", ["symlink", "hardlink"])
def test_push_refuses_a_tree_whose_object_was_edited_in_place(registry: Registry, seeded: dict[str, dict[str, bytes]],
                                                              tmp_path: Path, mode: str) -> None:
    work = tmp_path / "w"
    selenite("clone", "test/blob@v1", work, "--url", registry.url, "--link-mode", mode, cwd=tmp_path)
    target = work / "a.txt"
    os.chmod(target.resolve(), 0o644)
    target.write_bytes(b"edit!\n")  # same path, the shared object's bytes
    env = {"SELENITE_TOKEN": registry.admin_token, "SELENITE_URL": registry.url}
    for args in (["--dry-run"], ["--version", "bad"]):
        r = selenite("push", *args, cwd=work, env=env, check=False)
        assert r.returncode == 1, r.stderr
        assert "a.txt" in r.stderr and "selenite fsck --repair" in r.stderr
    assert "bad" not in selenite("ls", "test/blob", "--url", registry.url).stdout
    # After the repair the edit is a real file and publishes as such.
    selenite("fsck", "--repair", cwd=work)
    selenite("push", "--version", "good", cwd=work, env=env)
    selenite("clone", "test/blob@good", tmp_path / "check", "--url", registry.url, cwd=tmp_path)
    assert (tmp_path / "check" / "a.txt").read_bytes() == b"edit!\n"
