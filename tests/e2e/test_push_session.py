"""A push killed after its upload started leaves `.git/selenite/push-session.json`; the next push
aborts that upload first (or learns it finished). In process, against the hostile registry."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.support.cli import selenite_in_process
from tests.support.evilreg import EvilRegistry, Reply
from tests.support.git import git, ok, run_git

TOKEN = "sel_session_test_token_123"
REFUSED = Reply.of_json({"status": "error", "reason": "not today"}, status=400)


@pytest.fixture
def tree(evilreg: EvilRegistry, tmp_path: Path) -> Path:
    evilreg.add_version("p", "a", "v1", {"x.txt": b"x\n"})
    assert selenite_in_process("clone", "--url", evilreg.url, "p/a@v1", str(tmp_path / "t"), cwd=tmp_path)[0] == 0
    tree = tmp_path / "t"
    (tree / "new.txt").write_text("new\n")
    ok(run_git(tree, "add", "new.txt"))
    ok(run_git(tree, "commit", "-qm", "new"))
    return tree


def leave_session(tree: Path, session: object) -> Path:
    path = Path(git("rev-parse", "--absolute-git-dir", cwd=tree).strip()) / "selenite" / "push-session.json"
    path.write_text(json.dumps(session))
    return path


def push(tree: Path) -> tuple[int, str]:
    return selenite_in_process("push", "--token", TOKEN, cwd=tree)


def session(version: str = "v2") -> dict[str, str]:
    return {"project": "p", "asset": "a", "version": version, "abort_url": f"/upload/abort/p/a/{version}",
            "session_token": "left-by-a-killed-push"}


def test_the_upload_a_killed_push_left_is_aborted_first(evilreg: EvilRegistry, tree: Path) -> None:
    path = leave_session(tree, session())
    evilreg.routes[("POST", "/upload/abort/")] = lambda req: Reply.of_json({})
    evilreg.routes[("POST", "/upload/start/")] = lambda req: REFUSED  # the new push stops there
    code, err = push(tree)
    assert "aborted the unfinished upload of p/a/v2 left by an earlier push" in err
    assert code == 1 and "not today" in err
    assert [r.path for r in evilreg.requested("POST")][:1] == ["/upload/abort/p/a/v2"]
    assert not path.exists()


def test_a_left_upload_that_can_no_longer_be_aborted_and_did_not_finish_is_forgotten(
        evilreg: EvilRegistry, tree: Path) -> None:
    path = leave_session(tree, session())
    evilreg.routes[("POST", "/upload/abort/")] = lambda req: Reply.of_json(
        {"status": "error", "reason": "project has not been previously locked for upload"}, status=403)
    evilreg.routes[("POST", "/upload/start/")] = lambda req: REFUSED
    code, err = push(tree)
    assert code == 1 and "aborted" not in err and "not today" in err
    assert not path.exists()  # its version has no summary: nothing of it to finish


@pytest.mark.parametrize("content", ["[1, 2]", "{not json"])
def test_a_session_file_selenite_did_not_write_is_dropped(evilreg: EvilRegistry, tree: Path, content: str) -> None:
    path = leave_session(tree, None)
    path.write_text(content)
    evilreg.routes[("POST", "/upload/start/")] = lambda req: REFUSED
    code, err = push(tree)
    assert code == 1 and "Traceback" not in err and "unexpected" not in err
    assert not path.exists() and not evilreg.requested("POST", "/upload/abort/")


def test_a_killed_push_whose_version_the_registry_finished_is_finished_here(
        evilreg: EvilRegistry, tree: Path) -> None:
    path = leave_session(tree, session())
    evilreg.add_version("p", "a", "v2", {"x.txt": b"x\n", "new.txt": b"new\n"})  # exactly what this push sends
    evilreg.routes[("POST", "/upload/abort/")] = lambda req: Reply.of_json(
        {"status": "error", "reason": "project has not been previously locked for upload"}, status=403)
    code, err = push(tree)
    assert code == 0, err
    assert not evilreg.requested("POST", "/upload/start/")  # nothing made twice
    assert git("describe", "--tags", cwd=tree).strip() == "v2"
    assert not path.exists()


def test_a_finished_version_the_tree_has_moved_on_from_means_a_new_version(evilreg: EvilRegistry, tree: Path) -> None:
    leave_session(tree, session())
    evilreg.add_version("p", "a", "v2", {"x.txt": b"x\n", "other.txt": b"not this push\n"})
    evilreg.routes[("POST", "/upload/abort/")] = lambda req: Reply.of_json(
        {"status": "error", "reason": "project has not been previously locked for upload"}, status=403)
    evilreg.routes[("POST", "/upload/start/")] = lambda req: REFUSED
    code, err = push(tree)
    assert code == 1 and "not today" in err
    assert [r.path for r in evilreg.requested("POST", "/upload/start/")] == ["/upload/start/p/a/v3"]
