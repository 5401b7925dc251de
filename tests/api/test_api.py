"""The Python API (`import selenite`) driven in-process against a real `selenite serve`: clone, status,
edit, push (dry run, then for real, then refused from a stale base), pull, diff, versions, manifest, one
file and a whole version downloaded; owners' approve/reject, a link-aware remove, and a token
revoked (refused with 401 at once). Every call names its `Registry`, so nothing here comes from the
environment the fixtures set up (its cache included)."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

import selenite
from tests.support.registry import Registry
from tests.support.seed import create_project, seed_three_versions, upload_version


@pytest.mark.backends("folder")  # the subject is the API; tests/server covers the storages
def test_clone_edit_push_diff_and_downloads(registry: Registry, tmp_path: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    contents = seed_three_versions(registry, tmp_path)
    reg = selenite.Registry(registry.url, registry.admin_token, cache=tmp_path / "api-cache")
    seen: list[tuple[str, int, int]] = []

    tree = selenite.clone("test/blob@v3", tmp_path / "t", registry=reg, progress=lambda *a: seen.append(a))
    assert tree.root == (tmp_path / "t").absolute() and tree.origin.version == "v3"
    assert (tree.root / "v3.txt").read_bytes() == contents["v3"]["v3.txt"]
    assert seen and seen[-1][0] == "get" and seen[-1][1] == seen[-1][2]  # every byte told to the hook
    assert os.path.realpath(tree.root / "a.txt").startswith(str(tmp_path / "api-cache"))
    assert selenite.open_tree(tree.root / "moved", registry=reg).root == tree.root
    assert tree.status().clean

    # Edit: a link replaced by a file, a new file; status says so, structured.
    (tree.root / "v3.txt").unlink()
    (tree.root / "v3.txt").write_bytes(b"changed\n")
    (tree.root / "added.csv").write_bytes(b"p,q\n")
    changed = {e.path: e.status for e in tree.status().changed}
    assert changed == {"v3.txt": selenite.PathStatus.MODIFIED, "added.csv": selenite.PathStatus.NEW}

    plan = tree.push(dry_run=True)
    assert (plan.version, plan.pushed) == ("v4", False) and plan.plan is not None
    assert sorted(i.path for i in plan.plan.items if i.source is not None) == ["added.csv", "v3.txt"]
    done = tree.push(message="edited from Python", progress=False)
    assert (done.spec, done.pushed, done.on_probation) == ("test/blob/v4", True, False)
    assert tree.origin.version == "v4" and tree.status().clean
    assert tree.push().version is None  # nothing left to push

    found = selenite.diff("test/blob@v3", "test/blob@v4", registry=reg)
    assert [a.path for a in found.added] == ["added.csv"] and [m.path for m in found.modified] == ["v3.txt"]
    listed = selenite.versions("test", "blob", registry=reg)
    assert [(v.version, v.latest) for v in listed] == [("v4", True), ("v3", False), ("v2", False), ("v1", False)]
    assert listed[0].files == 5
    keys = selenite.manifest("test/blob@v1", registry=reg)
    assert {p: k.size for p, k in keys.items()} == {p: len(b) for p, b in contents["v1"].items()}

    # A second tree on v3 is stale now: its push is a Conflict (as `selenite push` refuses it).
    elsewhere = selenite.Registry(registry.url, registry.admin_token, cache=tmp_path / "cache-u")
    other = selenite.clone("test/blob@v3", tmp_path / "u", registry=elsewhere, download=False, progress=False)
    (other.root / "late.txt").write_bytes(b"late\n")
    with pytest.raises(selenite.Conflict, match="pull"):
        other.push()
    pulled = other.pull(progress=False)  # a fast-forward to v4; late.txt, untracked, stays
    assert (pulled.spec, pulled.fast_forward, pulled.conflicted) == ("test/blob@v4", True, [])
    assert other.origin.version == "v4" and (other.root / "added.csv").read_bytes() == b"p,q\n"
    assert other.pull().up_to_date
    assert other.push(progress=False).spec == "test/blob/v5"
    got = other.get(["moved/*", "new.txt"], progress=False)
    assert (got.files, got.downloads) == (2, 2) and (other.root / "new.txt").read_bytes() == contents["v3"]["new.txt"]

    # A cache object written through its link: push refuses (the registry would get the old bytes).
    obj = Path(os.path.realpath(other.root / "new.txt"))
    obj.chmod(0o644)
    obj.write_bytes(b"written through the link\n")
    with pytest.raises(selenite.Error, match="fsck --repair"):
        other.push(version="v9")

    # One file, no tree: the read-only cache object, md5-checked; then from the cache (no request).
    capsys.readouterr()
    path = selenite.download("test/blob@v1", "big.bin", registry=reg, progress=False)
    assert path.read_bytes() == contents["v1"]["big.bin"]
    assert not stat.S_IMODE(path.stat().st_mode) & 0o222
    assert selenite.download("test/blob@v1", "/big.bin", registry=reg) == path
    assert capsys.readouterr().err == ""  # progress=False: silent
    with pytest.raises(selenite.NotFound, match="no file"):
        selenite.download("test/blob@v1", "nope.txt", registry=reg)
    with pytest.raises(selenite.NotFound) as missing:
        selenite.clone("test/blob@v9", tmp_path / "gone", registry=reg)
    assert isinstance(missing.value, selenite.Error) and not (tmp_path / "gone").exists()

    # A whole version as a read-only folder of links, reused by the next call.
    snap = selenite.download_version("test/blob@v2", registry=reg, progress=False)
    assert snap.is_relative_to(tmp_path / "api-cache" / "snapshots")
    assert {p.relative_to(snap).as_posix(): p.read_bytes() for p in snap.rglob("*") if p.is_file()} == contents["v2"]
    assert not stat.S_IMODE(snap.stat().st_mode) & 0o222
    assert selenite.download_version("test/blob@v2", registry=reg) == snap


@pytest.mark.backends("folder")
def test_owners_remove_and_tokens(registry: Registry, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    alice, carol = registry.token("alice"), registry.token("carol")
    # registry=None and Registry.from_env(): the CLI's defaults, read from the environment only then.
    monkeypatch.setenv("SELENITE_URL", registry.url)
    monkeypatch.setenv("SELENITE_TOKEN", alice)
    assert selenite.Registry.from_env().whoami() == {"user": "alice", "admin": False}
    with pytest.raises(selenite.NotFound, match="no project 'own'"):
        selenite.versions("own", "blob")
    create_project(registry, "own", owners=["alice"], uploaders=[{"id": "carol"}])  # carol: untrusted
    as_alice = selenite.Registry(registry.url, alice)
    assert as_alice.whoami() == {"user": "alice", "admin": False}
    assert as_alice.permissions("own") == {"owners": ["alice"], "uploaders": [{"id": "carol"}]}
    upload_version(registry, tmp_path, "v1", {"x.txt": b"x\n"}, project="own", token=carol)
    upload_version(registry, tmp_path, "v2", {"y.txt": b"y\n"}, project="own", token=carol)
    with pytest.raises(selenite.Refused) as refused:
        selenite.Registry(registry.url, carol).approve("own/blob@v1")
    assert refused.value.status == 403
    as_alice.approve("own/blob@v1")
    as_alice.reject("own/blob@v2")
    assert [(v.version, v.latest) for v in selenite.versions("own", "blob", registry=as_alice)] == [("v1", True)]

    # remove is link-aware: refused while v2 links into v1; forced, v2 gets its own copies first.
    contents = seed_three_versions(registry, tmp_path)
    admin = selenite.Registry(registry.url, registry.admin_token, cache=tmp_path / "cache2")
    with pytest.raises(selenite.Error, match="link into it"):
        admin.remove("test/blob@v1")
    assert admin.remove("test/blob@v1", force=True) >= 2
    assert "v1" not in [v.version for v in selenite.versions("test", "blob", registry=admin)]
    path = selenite.download("test/blob@v2", "a.txt", registry=admin)
    assert path.read_bytes() == contents["v2"]["a.txt"]

    # Tokens on the registry's storage: a revoked one is refused (401) at once by the running server.
    ci = selenite.create_token("alice", root=registry.root, label="ci")
    assert [t.label for t in selenite.list_tokens("alice", root=registry.root)] == [None, "ci"]
    assert selenite.Registry(registry.url, ci).whoami()["user"] == "alice"
    assert [t.user for t in selenite.revoke_token("ci", root=registry.root)] == ["alice"]
    with pytest.raises(selenite.Refused) as gone:
        selenite.Registry(registry.url, ci).whoami()
    assert gone.value.status == 401
