"""The owner and admin verbs against a real `selenite serve`: whoami, permissions show/set,
approve/reject of probational versions, token list/revoke (a revoked token is refused at once),
and remove, which refuses while later versions link into its target and, with --force, leaves
them downloadable byte for byte (by selenite and by gypsum_client)."""

from __future__ import annotations

import json
import os
import pty
import subprocess
from pathlib import Path

import gypsum_client as gc
import pytest

from tests.support.cli import selenite
from tests.support.evilreg import EvilRegistry, Reply
from tests.support.files import tree_files
from tests.support.jsonschema import check_schema
from tests.support.registry import Registry
from tests.support.seed import create_project, seed_three_versions, upload_version
from tests.support.serve import SELENITE

WHOAMI = {"url": str, "user": str, "admin": bool}
PERMISSIONS = {"project": str, "owners": [str], "uploaders": [
    {"id": str, "asset?": str, "version?": str, "until?": str, "trusted?": bool, "...": True}]}
TOKENS = [{"id": str, "user": str, "created": str, "label": (str, None)}]
LS_VERSIONS = [{"version": str, "latest": bool, "probation": bool, "finished": (str, None), "user": (str, None)}]


def _as(registry: Registry, token: str, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    return selenite(*args, "--url", registry.url, "--token", token, check=check)


def _answering(registry: Registry, answer: str, *args: str) -> subprocess.CompletedProcess[str]:
    """The CLI with a terminal as stdin, on which ``answer`` is typed."""
    leader, follower = pty.openpty()
    try:
        os.write(leader, answer.encode() + b"\n")
        return subprocess.run([*SELENITE, *args, "--url", registry.url, "--token", registry.admin_token],
                              stdin=follower, capture_output=True, text=True, timeout=120, check=False)
    finally:
        os.close(follower)
        os.close(leader)


def _refused(proc: subprocess.CompletedProcess[str], *words: str) -> None:
    """One clear line on stderr, exit 1, no traceback."""
    assert proc.returncode == 1, proc
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in proc.stderr, proc.stderr
    for w in words:
        assert w in lines[0], lines[0]


@pytest.mark.backends("folder")  # the subject is the verbs; the server's storage is covered in tests/server
def test_owner_verbs_probation_permissions_and_tokens(registry: Registry, tmp_path: Path) -> None:
    alice, carol = registry.token("alice"), registry.token("carol")
    create_project(registry, "own", owners=["alice"], uploaders=[{"id": "carol"}])  # carol: untrusted

    me = json.loads(_as(registry, alice, "whoami", "--json").stdout)
    check_schema(me, WHOAMI)
    assert me == {"url": registry.url, "user": "alice", "admin": False}
    assert _as(registry, registry.admin_token, "whoami").stdout.strip() == "admin  (administrator)"

    perms = json.loads(selenite("permissions", "show", "own", "--json", "--url", registry.url).stdout)
    check_schema(perms, PERMISSIONS)
    assert perms == {"project": "own", "owners": ["alice"], "uploaders": [{"id": "carol"}]}
    _as(registry, alice, "permissions", "set", "own", "--add", "--uploader", "bob", "--asset", "blob", "--trusted")
    _as(registry, alice, "permissions", "set", "own", "--add", "--owner", "dave")
    shown = selenite("permissions", "show", "own", "--url", registry.url).stdout.splitlines()
    assert shown == ["owner     alice", "owner     dave", "uploader  carol", "uploader  bob  (asset blob, trusted)"]
    _as(registry, alice, "permissions", "set", "own", "--remove", "--owner", "dave", "--uploader", "bob")
    _refused(_as(registry, alice, "permissions", "set", "own", "--remove", "--owner", "zed", check=False), "zed")
    _refused(_as(registry, carol, "permissions", "set", "own", "--owner", "carol", check=False), "403")
    _as(registry, alice, "permissions", "set", "own", "--owner", "alice", "--owner", "erin")  # replaces owners
    assert gc.fetch_permissions("own", url=registry.url) == {"owners": ["alice", "erin"],
                                                            "uploaders": [{"id": "carol"}]}

    # carol is untrusted: her versions land on probation; alice approves one and rejects the other.
    upload_version(registry, tmp_path, "v1", {"x.txt": b"x\n"}, project="own", token=carol)
    upload_version(registry, tmp_path, "v2", {"y.txt": b"y\n"}, project="own", token=carol)
    rows = json.loads(selenite("ls", "own/blob", "--json", "--url", registry.url).stdout)
    check_schema(rows, LS_VERSIONS)
    assert [(r["version"], r["probation"], r["latest"]) for r in rows] == [("v1", True, False), ("v2", True, False)]
    _refused(_as(registry, carol, "approve", "own/blob@v1", check=False), "403")
    done = _as(registry, alice, "approve", "own/blob@v1")
    assert "approved own/blob@v1: it is now the latest version" in done.stderr
    _as(registry, alice, "reject", "own/blob@v2")
    rows = json.loads(selenite("ls", "own/blob", "--json", "--url", registry.url).stdout)
    assert [(r["version"], r["probation"], r["latest"]) for r in rows] == [("v1", False, True)]
    _refused(_as(registry, alice, "approve", "own/blob", check=False), "PROJECT/ASSET@VERSION")
    _refused(_as(registry, alice, "reject", "own/blob@v1", check=False), "non-probational")

    # Tokens: listed without the secrets; a revoked one is refused at once by the running server.
    ci = selenite("token", "create", "alice", "--label", "ci", *registry.storage_args()).stdout.strip()
    listed = json.loads(selenite("token", "list", "--json", *registry.storage_args()).stdout)
    check_schema(listed, TOKENS)
    assert {t["user"] for t in listed} == {"admin", "alice", "carol"} and carol not in json.dumps(listed)
    assert [t["label"] for t in listed if t["user"] == "alice"] == [None, "ci"]
    assert _as(registry, ci, "whoami").stdout.strip() == "alice"
    selenite("token", "revoke", "ci", *registry.storage_args())
    _refused(_as(registry, ci, "whoami", check=False), "401")
    carol_id = next(t["id"] for t in listed if t["user"] == "carol")
    selenite("token", "revoke", carol_id, *registry.storage_args())
    _refused(_as(registry, carol, "whoami", check=False), "401")
    assert _as(registry, alice, "whoami").stdout.strip() == "alice"


@pytest.mark.backends("folder")  # the server side runs on every backend in tests/server/test_remove_links.py
def test_remove_refuses_while_linked_then_force_keeps_dependents_whole(registry: Registry, tmp_path: Path) -> None:
    seeded = seed_three_versions(registry, tmp_path)
    admin = registry.admin_token

    _refused(_as(registry, admin, "remove", "test/blob@v1", "--yes", check=False),
             "refusing to remove test/blob@v1", "test/blob@v2 (2 file(s))", "test/blob@v3 (2 file(s))", "--force")
    _refused(_as(registry, admin, "remove", "test/nosuch", "--yes", check=False), "has no test/nosuch")
    _refused(_as(registry, registry.token("alice"), "remove", "test/blob@v3", "--yes", check=False), "403")
    # No terminal to ask on, and no --yes: nothing is removed.
    _refused(_as(registry, admin, "remove", "test/blob@v3", check=False), "--yes")
    # On a terminal it asks; anything but yes keeps it.
    no = _answering(registry, "n", "remove", "test/blob@v3")
    assert no.returncode == 1 and "remove test/blob@v3 from" in no.stderr and "nothing removed" in no.stderr
    assert "v3" in gc.list_versions("test", "blob", url=registry.url)

    out = _as(registry, admin, "remove", "test/blob@v1", "--force", "--yes")
    assert "removed test/blob@v1, having copied 4 linked file(s) into 2 version(s)" in out.stderr
    assert gc.list_versions("test", "blob", url=registry.url) == ["v2", "v3"]
    for version in ("v2", "v3"):
        selenite("clone", f"test/blob@{version}", tmp_path / f"c-{version}", "--url", registry.url)
        assert tree_files(tmp_path / f"c-{version}") == seeded[version]
        root = Path(gc.save_version("test", "blob", version, cache_dir=str(tmp_path / f"gc-{version}"),
                                    url=registry.url))
        got = {f.relative_to(root).as_posix(): f.read_bytes() for f in root.rglob("*")
               if f.is_file() and not f.name.startswith("..") and not f.name.endswith(".LOCK")}
        assert got == seeded[version]

    # Another project's version linking in: removing the whole project keeps it whole too.
    create_project(registry, "keep")
    upload_version(registry, tmp_path, "k1", {}, project="keep", asset="k",
                   links={"c.csv": ("test", "blob", "v3", "moved/c.csv")})
    _refused(_as(registry, admin, "remove", "test", "--yes", check=False), "keep/k@k1")
    yes = _answering(registry, "y", "remove", "test", "--force")
    assert yes.returncode == 0 and "copying 1 linked file(s) into 1 version(s)? [y/N]" in yes.stderr, yes.stderr
    assert "test" not in gc.list_projects(url=registry.url)
    selenite("clone", "keep/k@k1", tmp_path / "k1", "--url", registry.url)
    assert tree_files(tmp_path / "k1") == {"c.csv": seeded["v1"]["b/c.csv"]}


def test_remove_and_permissions_against_a_gypsum_worker_and_a_liar(evilreg: EvilRegistry) -> None:
    evilreg.add_version("p", "a", "v1", {"x.txt": b"x\n"})
    url = ("--url", evilreg.url, "--token", "t0k")
    # A gypsum worker cannot list the versions linking in: refused unless --force.
    _refused(selenite("remove", "p/a@v1", "--yes", *url, check=False),
             "cannot tell which versions link into p/a@v1", "--force")
    # A registry answering nonsense (or names that would rewrite the terminal) is refused, not shown.
    evilreg.routes[("GET", "/_selenite/dependents")] = lambda req: Reply.of_json([{"project": 1}])
    _refused(selenite("remove", "p/a@v1", "--yes", *url, check=False), "malformed list of dependent versions")
    evilreg.routes[("GET", "/_selenite/dependents")] = lambda req: Reply.of_json(
        [{"project": "p\x1b[2J", "asset": "a", "version": "v2", "paths": ["x.txt"]}])
    out = selenite("remove", "p/a@v1", "--yes", *url, check=False)
    _refused(out, "p\\x1b[2J/a@v2 (1 file(s))")
    evilreg.put("p/..permissions", {"owners": "alice", "uploaders": []})
    _refused(selenite("permissions", "show", "p", "--url", evilreg.url, check=False), "permissions of p are malformed")
    _refused(selenite("permissions", "show", "nope", "--url", evilreg.url, check=False), "has no project 'nope'")
    _refused(selenite("approve", "p/a/b@v1", *url, check=False), "asset name cannot contain")
    _refused(selenite("whoami", *url, check=False), "cannot say whose token this is")
