"""What scripts rely on: each `--json` output parsed against its schema in docs/user/json.md,
`status --exit-code`, `selenite --version`, and shell completion that works in real bash."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from selenite import __version__
from tests.support.cli import selenite
from tests.support.jsonschema import check_schema
from tests.support.registry import Registry
from tests.support.seed import seed_three_versions

LINK = {"project": str, "asset": str, "version": str, "path": str, "...": True}
LS_FILES = [{"path": str, "size": (int, None), "md5sum": (str, None), "link": (str, None)}]
STATUS = {
    "origin": {"url": str, "project": str, "asset": str, "version": str},
    "paths": [{"path": str, "status": str, "key": (str, None), "old_key": (str, None)}],
}
PUSH_PLAN = {
    "project": str, "asset": str, "version": (str, None), "unchanged": bool,
    "files": [{"path": str, "kind": str, "size": int, "md5sum": str, "link": (LINK, None)}],
    "deleted": [str], "external": [{"path": str, "target": str}], "upload_bytes": int, "total_bytes": int,
}
FSCK = {"checked": int, "missing": int, "corrupted": [{"path": str, "key": str}], "destroyed": [str],
        "outside": [{"path": str, "target": str}]}
GC = {"dry_run": bool, "removed": [str], "freed_bytes": int, "kept_objects": int, "kept_bytes": int,
      "worktrees": int, "kept_gone": int, "kept_unasked": int}


def _json(*args: str | Path, cwd: Path | None = None, code: int = 0) -> Any:
    proc = selenite(*args, cwd=cwd, check=False)
    assert proc.returncode == code, proc
    return json.loads(proc.stdout)


@pytest.mark.backends("folder")  # the subject is the output, not the storage
def test_json_outputs_match_their_schemas(registry: Registry, tmp_path: Path) -> None:
    seeded = seed_three_versions(registry, tmp_path)
    files = _json("ls", "test/blob@v3", "--json", "--url", registry.url)
    check_schema(files, LS_FILES)
    assert [f["path"] for f in files] == sorted(seeded["v3"])
    work = tmp_path / "w"
    selenite("clone", "test/blob@v3", work, "--url", registry.url)

    # Registry verbs inside a tree talk to the tree's registry when none is named.
    assert _json("whoami", "--json", "--token", registry.admin_token, cwd=work) == {
        "url": registry.url, "user": "admin", "admin": True}
    doc = _json("status", "--json", "--exit-code", cwd=work)
    check_schema(doc, STATUS)
    assert doc == {"origin": {"url": registry.url, "project": "test", "asset": "blob", "version": "v3"}, "paths": []}
    plan = _json("push", "--dry-run", "--json", cwd=work)
    check_schema(plan, PUSH_PLAN)
    assert plan["version"] is None and plan["unchanged"] is True

    selenite("unlock", "v3.txt", cwd=work)
    (work / "v3.txt").write_bytes(b"edited\n")
    (work / "added.bin").write_bytes(b"\0" * 100)
    (work / "a.txt").unlink()
    doc = _json("status", "--json", "--exit-code", cwd=work, code=1)
    check_schema(doc, STATUS)
    assert {(p["path"], p["status"]) for p in doc["paths"]} == {
        ("v3.txt", "modified"), ("added.bin", "new"), ("a.txt", "deleted")}
    assert selenite("status", "--exit-code", cwd=work, check=False).returncode == 1
    plan = _json("push", "--dry-run", "--json", cwd=work)
    check_schema(plan, PUSH_PLAN)
    kinds = {f["path"]: f["kind"] for f in plan["files"]}
    assert plan["version"] == "v4" and plan["deleted"] == ["a.txt"]
    assert kinds["added.bin"] != "link" and kinds["moved/c.csv"] == "link"
    assert "--dry-run" in selenite("push", "--json", cwd=work, check=False).stderr

    report = _json("fsck", "--json", cwd=work)
    check_schema(report, FSCK)
    assert report["corrupted"] == [] and report["checked"] == 2  # new.txt, moved/c.csv: the rest is unlocked or gone

    shutil.rmtree(work)  # its objects are now needed by no tree
    gone = _json("gc", "--dry-run", "--json")
    check_schema(gone, GC)
    assert gone["dry_run"] is True and len(gone["removed"]) >= 3
    assert _json("gc", "--dry-run", "--json") == gone  # a dry run removed nothing


def test_version_and_bash_completion(tmp_path: Path) -> None:
    assert selenite("--version").stdout == f"selenite {__version__}\n"
    script = selenite("--show-completion", "bash").stdout
    assert "complete " in script and "_SELENITE_COMPLETE=complete_bash" in script
    (tmp_path / "completion.bash").write_text(script)
    # Real bash sources the script and runs the completion function as it would on <TAB>.
    drive = ('source "$1"; COMP_WORDS=(selenite "$2"); COMP_CWORD=1; _selenite_completion selenite; '
             'printf "%s\\n" "${COMPREPLY[@]}"')
    bin_dir = str(Path(sys.executable).parent)  # where the `selenite` entry point of this venv is
    env = {**os.environ, "PATH": bin_dir + os.pathsep + os.environ["PATH"]}

    def complete(word: str) -> list[str]:
        out = subprocess.run(["bash", "-c", drive, "bash", str(tmp_path / "completion.bash"), word],
                             capture_output=True, text=True, env=env, check=True, timeout=60).stdout
        return sorted({line.split(":")[0] for line in out.splitlines() if line})

    assert complete("cl") == ["clone"]
    assert complete("p") == ["permissions", "pull", "push"]

    # --install-completion writes the same script under $HOME and sources it from ~/.bashrc.
    home = tmp_path / "home"
    home.mkdir()
    selenite("--install-completion", "bash", env={"HOME": str(home)})
    (tmp_path / "completion.bash").write_text(f"source {home / '.bashrc'}\n")
    assert complete("wh") == ["whoami"]
