"""Shared fixtures: an isolated environment, real git, and a real `selenite serve` process."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import requests

from tests import s3server

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(autouse=True)
def _isolated_env(monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory) -> None:
    """No test reads or writes the real home, git config, selenite config or cache."""
    for k in list(os.environ):
        if k.startswith(("GIT_", "SELENITE_", "GYPSUM_")):
            monkeypatch.delenv(k)
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(home / ".cache"))
    monkeypatch.setenv("XDG_STATE_HOME", str(home / ".state"))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    monkeypatch.setenv("GIT_TEMPLATE_DIR", str(tmp_path_factory.mktemp("git-template")))
    for who in ("AUTHOR", "COMMITTER"):
        monkeypatch.setenv(f"GIT_{who}_NAME", "Test User")
        monkeypatch.setenv(f"GIT_{who}_EMAIL", "test@example.com")
    monkeypatch.setenv("SELENITE_CACHE", str(tmp_path_factory.mktemp("cache")))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def selenite(*args: str | os.PathLike[str], cwd: Path | None = None, check: bool = True,
             env: dict[str, str] | None = None, input: str | None = None) -> subprocess.CompletedProcess[str]:
    """Run the real CLI in a subprocess (what a user types)."""
    proc = subprocess.run(
        [sys.executable, "-m", "selenite", *map(str, args)],
        cwd=cwd, capture_output=True, text=True, env={**os.environ, **(env or {})}, input=input, timeout=600,
    )
    if check and proc.returncode != 0:
        raise AssertionError(f"selenite {' '.join(map(str, args))} exited {proc.returncode}\n"
                             f"stdout:\n{proc.stdout}\nstderr:\n{proc.stderr}")
    return proc


BACKENDS = ["folder", "s3"]  # every backend the `registry` fixture (and tests/server) runs against


@pytest.fixture(scope="session", autouse=True)
def _s3_server_lifetime() -> Iterator[None]:
    """Stop the session's SeaweedFS (started on first use by an S3 test) when the run ends."""
    yield
    s3server.stop_shared()


@dataclass
class Registry:
    """A `selenite serve` process on 127.0.0.1 over fresh storage: a folder, or an S3 bucket."""

    root: Path
    port: int
    admins: list[str] = field(default_factory=lambda: ["admin"])
    extra_args: list[str] = field(default_factory=list)
    proc: subprocess.Popen[bytes] | None = None
    admin_token: str = ""
    backend: str = "folder"
    s3_endpoint: str = ""
    s3_bucket: str = ""
    s3_prefix: str = ""

    @classmethod
    def for_backend(cls, backend: str, root: Path, **kw: Any) -> Registry:
        """A registry (not started) on ``backend``; S3 ones get their own prefix on the shared server."""
        if backend == "folder":
            return cls(root=root, port=free_port(), **kw)
        if backend == "s3":
            weed = s3server.shared()
            return cls(root=root, port=free_port(), backend="s3", s3_endpoint=weed.endpoint,
                       s3_bucket=weed.shared_bucket(), s3_prefix=weed.new_prefix(), **kw)
        raise ValueError(f"unknown backend {backend!r}")

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def storage_args(self) -> list[str]:
        if self.backend == "s3":
            return ["--storage", f"s3://{self.s3_bucket}/{self.s3_prefix}", "--s3-endpoint", self.s3_endpoint]
        return ["--root", str(self.root)]

    def env(self) -> dict[str, str]:
        """Extra environment of the processes that open the storage (the AWS credentials for S3)."""
        return s3server.aws_env() if self.backend == "s3" else {}

    def token(self, user: str) -> str:
        return selenite("token", "create", user, *self.storage_args(), env=self.env()).stdout.strip()

    def start(self) -> None:
        args = [sys.executable, "-m", "selenite", "serve", *self.storage_args(), "--port", str(self.port),
                *sum((["--admin", a] for a in self.admins), []), *self.extra_args]
        log = open(self.root.parent / f"server-{self.port}.log", "ab")  # noqa: SIM115
        self.proc = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT, env={**os.environ, **self.env()})
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                log.close()
                tail = Path(log.name).read_text(errors="replace")[-2000:]
                raise RuntimeError(f"selenite serve exited {self.proc.returncode}; its log ends:\n{tail}")
            try:
                requests.get(f"{self.url}/list", timeout=1)
                return
            except requests.ConnectionError:
                time.sleep(0.05)
        raise RuntimeError("selenite serve did not answer within 30 s")

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.kill()

    def stats(self) -> dict[str, int]:
        """The server's own counters (requests and bytes per route family)."""
        r = requests.get(f"{self.url}/_selenite/stats", timeout=10)
        r.raise_for_status()
        return r.json()

    # --- the stored objects themselves, behind the server's back (tests plant bad data) ------

    def s3_client(self) -> Any:
        assert self.backend == "s3"
        return s3server.shared().client()

    def _s3_key(self, area: str, key: str) -> str:
        return f"{self.s3_prefix}/{area}/{key}"

    def put_raw(self, key: str, data: bytes) -> None:
        """Overwrite bucket key ``key`` directly in the storage (no md5 check, no server)."""
        if self.backend == "s3":
            self.s3_client().put_object(Bucket=self.s3_bucket, Key=self._s3_key("bucket", key), Body=data)
            return
        path = self.root / "bucket" / key
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)

    def get_raw(self, key: str) -> bytes:
        """Bucket key ``key`` read directly from the storage."""
        if self.backend == "s3":
            return self.s3_client().get_object(Bucket=self.s3_bucket, Key=self._s3_key("bucket", key))["Body"].read()
        return (self.root / "bucket" / key).read_bytes()

    def list_raw(self) -> list[tuple[str, int]]:
        """Every stored object, bucket and private state alike, as sorted ``(name, size)``."""
        if self.backend == "s3":
            # Only this registry's prefix: the session's other tests share the bucket.
            pages = self.s3_client().get_paginator("list_objects_v2").paginate(
                Bucket=self.s3_bucket, Prefix=f"{self.s3_prefix}/")
            return sorted((o["Key"], o["Size"]) for page in pages for o in page.get("Contents", [])
                          if not o["Key"].endswith("/"))
        return sorted((p.relative_to(self.root).as_posix(), p.stat().st_size)
                      for p in self.root.rglob("*") if p.is_file())

    def uploaded_bytes(self) -> int:
        """Bytes of file content uploaded so far. Folder: what the server's upload target received.
        S3: the server must receive none (uploads go straight to the store), so count the bytes of
        the version files that landed in the bucket instead."""
        received = self.stats()["upload_put_bytes"]
        if self.backend != "s3":
            return received
        assert received == 0, f"the server itself received {received} bytes of uploads on S3"
        return sum(size for _, size in self._stored_files())

    def uploaded_files(self) -> int:
        """Files uploaded so far: PUTs the server received (folder), files in the bucket (S3)."""
        if self.backend != "s3":
            return self.stats()["upload_put"]
        return len(self._stored_files())

    def _stored_files(self) -> list[tuple[str, int]]:
        """(name, size) of the version files in an S3 registry (internal '..' objects left out)."""
        prefix = f"{self.s3_prefix}/bucket/"
        pages = self.s3_client().get_paginator("list_objects_v2").paginate(Bucket=self.s3_bucket, Prefix=prefix)
        names = [(o["Key"], o["Size"]) for page in pages for o in page.get("Contents", []) if not o["Key"].endswith("/")]
        return [(name, size) for name, size in names
                if not any(p.startswith("..") for p in name[len(prefix):].split("/"))]


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "backends(*names): run this test's `registry` only on these storage backends "
        "(default: all of BACKENDS); for tests whose subject is not the storage, to keep the suite lean")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Every test that uses `registry` (directly or through another fixture) runs once per backend."""
    if "registry" in metafunc.fixturenames and not _parametrizes_registry(metafunc):
        marker = metafunc.definition.get_closest_marker("backends")
        backends = list(marker.args) if marker else BACKENDS
        unknown = set(backends) - set(BACKENDS)
        if unknown:
            raise ValueError(f"unknown backends {sorted(unknown)} in @pytest.mark.backends")
        metafunc.parametrize("registry", backends, indirect=True)


def _parametrizes_registry(metafunc: pytest.Metafunc) -> bool:
    """A test may also pick its backends itself: ``parametrize("registry", ["folder"], indirect=True)``."""
    for m in metafunc.definition.iter_markers("parametrize"):
        names = m.args[0] if m.args else m.kwargs.get("argnames", "")
        names = [n.strip() for n in names.split(",")] if isinstance(names, str) else list(names)
        if "registry" in names:
            return True
    return False


@pytest.fixture
def registry(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Registry]:
    root = tmp_path / "registry"
    root.mkdir()
    reg = Registry.for_backend(getattr(request, "param", "folder"), root)
    reg.admin_token = reg.token("admin")
    reg.start()
    try:
        yield reg
    finally:
        reg.stop()


@pytest.fixture
def evilreg() -> Iterator[Any]:
    """A hostile registry (tests/evilreg.py) on 127.0.0.1: serves whatever the test puts in it."""
    from tests.evilreg import EvilRegistry

    with EvilRegistry() as reg:
        yield reg
