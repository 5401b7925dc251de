"""`Registry`: a `selenite serve` process on 127.0.0.1 over fresh storage (a folder or an S3 prefix),
and what tests read and plant behind its back."""

from __future__ import annotations

import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests

from tests.support import s3server
from tests.support.cli import selenite
from tests.support.serve import start_serve, stop

BACKENDS = ["folder", "s3"]  # every backend the `registry` fixture (and tests/server) runs against


@dataclass
class Registry:
    """A `selenite serve` process on 127.0.0.1 over fresh storage: a folder, or an S3 bucket."""

    root: Path
    port: int = 0  # 0 until started: the server picks a free one (then kept for restarts)
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
            return cls(root=root, **kw)
        if backend == "s3":
            weed = s3server.shared()
            return cls(root=root, backend="s3", s3_endpoint=weed.endpoint,
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

    @property
    def log(self) -> Path:
        """Where the server's output goes (appended to across restarts)."""
        return self.root.parent / f"server-{self.root.name}.log"

    def start(self) -> None:
        """Start the server (again, after `stop` or `kill`: same port, same storage)."""
        admins = [arg for a in self.admins for arg in ("--admin", a)]
        self.proc, self.port = start_serve([*self.storage_args(), *admins, *self.extra_args], port=self.port,
                                           log=self.log, env=self.env())

    def kill(self) -> None:
        """SIGKILL: the server dies as in a crash (a test of what clients see then)."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    def stop(self) -> None:
        if self.proc is not None:
            stop(self.proc)

    @property
    def pid(self) -> int:
        assert self.proc is not None, "the registry is not running"
        return self.proc.pid

    def stats(self) -> dict[str, int]:
        """The server's own counters (requests and bytes per route family)."""
        r = requests.get(f"{self.url}/_selenite/stats", timeout=10)
        r.raise_for_status()
        return dict(r.json())

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
            obj = self.s3_client().get_object(Bucket=self.s3_bucket, Key=self._s3_key("bucket", key))
            data: bytes = obj["Body"].read()
            return data
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
        """Bytes of file content uploaded so far. Folder: what the server's upload target and its
        batched upload route received. S3: no presigned upload may reach the server (they go straight
        to the store; only batches of small files pass through it), so count the bytes of the version
        files that landed in the bucket instead."""
        stats = self.stats()
        received = stats["upload_put_bytes"]
        if self.backend != "s3":
            return received + stats["upload_batch_bytes"]
        assert received == 0, f"the server itself received {received} bytes of presigned uploads on S3"
        return sum(size for _, size in self._stored_files())

    def uploaded_files(self) -> int:
        """Files uploaded so far: PUTs the server received (folder), files in the bucket (S3)."""
        if self.backend != "s3":
            stats = self.stats()
            return stats["upload_put"] + stats["upload_batch"]
        return len(self._stored_files())

    def _stored_files(self) -> list[tuple[str, int]]:
        """(name, size) of the version files in an S3 registry (internal '..' objects left out)."""
        prefix = f"{self.s3_prefix}/bucket/"
        pages = self.s3_client().get_paginator("list_objects_v2").paginate(Bucket=self.s3_bucket, Prefix=prefix)
        names = [(o["Key"], o["Size"]) for page in pages for o in page.get("Contents", [])
                 if not o["Key"].endswith("/")]
        return [(name, size) for name, size in names
                if not any(p.startswith("..") for p in name[len(prefix):].split("/"))]


def start_registry(root: Path, backend: str = "folder", extra_args: list[str] | None = None) -> Registry:
    """A started registry on ``backend`` (storage under ``root``, created here), ``admin`` its admin
    with ``admin_token`` set."""
    root.mkdir(parents=True, exist_ok=True)
    reg = Registry.for_backend(backend, root, extra_args=list(extra_args or []))
    reg.admin_token = reg.token("admin")
    reg.start()
    return reg
