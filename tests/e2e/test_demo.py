"""`selenite demo`: the README's first command runs the whole story and says what moved."""

from __future__ import annotations

import socket
from pathlib import Path

from tests.support.cli import selenite
from tests.support.ports import free_port


def test_the_demo_clones_edits_commits_and_pushes_a_new_version(tmp_path: Path) -> None:
    d = tmp_path / "demo"
    out = selenite("demo", d, "--port", str(free_port())).stdout
    assert "uploaded demo/rnaseq@v1: 26 files" in out
    assert "$ selenite clone demo/rnaseq@v1 work" in out and "$ selenite push" in out
    assert "pushed demo/rnaseq/v2" in out, out
    assert f"done: the working tree is {d / 'work'}" in out
    assert (d / "work" / "counts" / "sample25.tsv").read_text().endswith("ENSG00000000001\t7\n")
    # Run again over its own folder: the earlier demo is removed (read-only cache objects included).
    again = selenite("demo", d, "--port", str(free_port())).stdout
    assert "pushed demo/rnaseq/v2" in again


def test_the_demo_refuses_a_folder_it_did_not_make_and_a_busy_port(tmp_path: Path) -> None:
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("keep\n")
    r = selenite("demo", tmp_path / "mine", "--port", str(free_port()), check=False)
    assert r.returncode == 1 and "is not empty: pick another folder" in r.stderr
    assert (tmp_path / "mine" / "notes.txt").read_text() == "keep\n"
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        r = selenite("demo", tmp_path / "d", "--port", str(s.getsockname()[1]), check=False)
    assert r.returncode == 1 and "is busy: run `selenite demo --port N`" in r.stderr
