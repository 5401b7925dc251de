"""Tokens go only to the registry they were given for, and `selenite login` checks a token and makes
its registry the default (security review F9; new-user findings 12 and 26)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from tests.support.cli import selenite
from tests.support.evilreg import EvilRegistry
from tests.support.git import git
from tests.support.registry import Registry
from tests.support.seed import create_project, upload_version

pytestmark = pytest.mark.backends("folder")  # the subject is the client, not the storage

SECRET = "sel_ENV_TOKEN_FOR_MY_REAL_REGISTRY"


def _creds() -> Path:
    return Path(os.environ["HOME"]) / ".config" / "selenite" / "credentials.json"


def _sent_secret(reg: EvilRegistry) -> list[str]:
    return [f"{r.method} {r.path}" for r in reg.requested() if SECRET in r.headers.get("Authorization", "")]


def _victim_tree(evilreg: EvilRegistry, tmp_path: Path) -> Path:
    """A plain `git clone` of a tree whose commits name the attacker's registry, plus a new file."""
    evilreg.add_version("p", "a", "v1", {"data.txt": b"public\n"})
    selenite("clone", "--url", evilreg.url, "p/a@v1", tmp_path / "att")
    git("clone", "-q", str(tmp_path / "att"), str(tmp_path / "vic"), cwd=tmp_path)
    vic = tmp_path / "vic"
    selenite("get", cwd=vic)  # records the trailer's registry in git config, as any command does
    assert git("config", "selenite.url", cwd=vic).strip() == evilreg.url
    (vic / "mine.txt").write_text("my new data\n")
    git("add", "mine.txt", cwd=vic)
    git("commit", "-qm", "add mine", cwd=vic)
    return vic


def test_env_token_is_not_sent_to_the_registry_a_tree_records(
    evilreg: EvilRegistry, registry: Registry, tmp_path: Path
) -> None:
    vic = _victim_tree(evilreg, tmp_path)
    for env in ({"SELENITE_TOKEN": SECRET}, {"SELENITE_TOKEN": SECRET, "SELENITE_URL": registry.url}):
        r = selenite("push", cwd=vic, env=env, check=False)
        assert r.returncode == 1, r.stderr
        line = r.stderr.strip()
        assert "\n" not in line and "Traceback" not in line
        assert f"not sending $SELENITE_TOKEN to {evilreg.url}" in line
        assert f"selenite login --url {evilreg.url}" in line and f"--url {evilreg.url}" in line
    assert evilreg.requested(), "push did talk to the tree's registry (reads need no token)"
    assert _sent_secret(evilreg) == []
    # Naming that registry explicitly is the user's decision: then the token goes there.
    selenite("push", "--url", evilreg.url, cwd=vic, env={"SELENITE_TOKEN": SECRET}, check=False)
    assert _sent_secret(evilreg) == ["POST /upload/start/p/a/v2"]


def test_env_token_goes_to_selenite_url_and_saved_tokens_per_url(registry: Registry, tmp_path: Path) -> None:
    create_project(registry, "p")
    upload_version(registry, tmp_path, "v1", {"x.txt": b"x\n"}, project="p", asset="a")
    tree = tmp_path / "t"
    selenite("clone", "--url", registry.url, "p/a@v1", tree)
    (tree / "y.txt").write_text("y\n")
    git("add", "y.txt", cwd=tree)
    git("commit", "-qm", "y", cwd=tree)
    env = {"SELENITE_URL": registry.url + "/", "SELENITE_TOKEN": registry.admin_token}
    assert "pushed p/a/v2" in selenite("push", cwd=tree, env=env).stdout
    # A token saved by login for this URL is used with no environment at all.
    selenite("login", "--url", registry.url, input=registry.admin_token + "\n")
    (tree / "z.txt").write_text("z\n")
    git("add", "z.txt", cwd=tree)
    git("commit", "-qm", "z", cwd=tree)
    assert "pushed p/a/v3" in selenite("push", cwd=tree).stdout


def test_login_checks_the_token_and_sets_the_default_registry(registry: Registry, tmp_path: Path) -> None:
    create_project(registry, "p")
    upload_version(registry, tmp_path, "v1", {"x.txt": b"x\n"}, project="p", asset="a")
    bad = selenite("login", "--url", registry.url, "--token", "sel_not_a_token", check=False)
    assert bad.returncode == 1 and bad.stderr.count("\n") == 1 and "refused this token (401)" in bad.stderr
    assert not _creds().exists()
    dead = selenite("login", "--url", "http://127.0.0.1:9", "--token", "t0k", check=False)
    assert dead.returncode == 1 and "cannot reach the registry" in dead.stderr and not _creds().exists()

    user = registry.token("carol")
    ok = selenite("login", "--url", registry.url + "/", input=user + "\n")  # the token from stdin, not argv
    assert f"logged in to {registry.url} as carol" in ok.stderr
    assert json.loads(_creds().read_text()) == {registry.url: user}
    assert _creds().stat().st_mode & 0o777 == 0o600
    # The README's next step: clone with no --url and no SELENITE_URL.
    selenite("clone", "p/a@v1", tmp_path / "t", cwd=tmp_path)
    assert (tmp_path / "t" / "x.txt").read_bytes() == b"x\n"
    assert selenite("ls").stdout.split() == ["p"]


def test_login_to_a_registry_that_cannot_say_who(evilreg: EvilRegistry) -> None:
    ok = selenite("login", "--url", evilreg.url, "--token", "ghp_whatever")  # a gypsum worker: no whoami
    assert "cannot say whose token it is" in ok.stderr
    assert json.loads(_creds().read_text()) == {evilreg.url: "ghp_whatever"}
