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

import pytest
import requests

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


@dataclass
class Registry:
    """A `selenite serve` process on 127.0.0.1 over a fresh storage root."""

    root: Path
    port: int
    admins: list[str] = field(default_factory=lambda: ["admin"])
    extra_args: list[str] = field(default_factory=list)
    proc: subprocess.Popen[bytes] | None = None
    admin_token: str = ""

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def storage_args(self) -> list[str]:
        return ["--root", str(self.root)]

    def token(self, user: str) -> str:
        return selenite("token", "create", user, *self.storage_args()).stdout.strip()

    def start(self) -> None:
        args = [sys.executable, "-m", "selenite", "serve", *self.storage_args(), "--port", str(self.port),
                *sum((["--admin", a] for a in self.admins), []), *self.extra_args]
        log = open(self.root.parent / f"server-{self.port}.log", "ab")  # noqa: SIM115
        self.proc = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"selenite serve exited {self.proc.returncode}; see {log.name}")
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


@pytest.fixture
def registry(tmp_path: Path) -> Iterator[Registry]:
    root = tmp_path / "registry"
    root.mkdir()
    reg = Registry(root=root, port=free_port())
    reg.admin_token = reg.token("admin")
    reg.start()
    try:
        yield reg
    finally:
        reg.stop()
