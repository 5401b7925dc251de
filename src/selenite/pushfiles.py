"""Sending a push's files to the registry, in parallel, with a progress bar.

Small files travel many to a request (``RegistryClient.put_batch``, ``POST /_selenite/upload-batch``)
when the registry is a selenite server: per-file requests (a presigned URL, then a PUT) are most
of the time of a push of thousands of small files, on both sides. Large files, and every file when
the registry is a gypsum worker (which answers that route 404), go through their presigned URLs.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Callable
from typing import Any

from selenite import output, pushplan, registry
from selenite.errors import FatalError, RegistryError
from selenite.keys import Key
from selenite.taskpool import run_all

# Files up to this size travel many to a request; a request holds at most BATCH_FILES files and
# about BATCH_BYTES bytes (the server's limits are 1,000 files and 8 MiB).
BATCH_FILE_MAX = 256 * 1024
BATCH_FILES = 200
BATCH_BYTES = 4 << 20
Keep = Callable[[list[tuple[Key, bytes]]], None]
_ATTEMPTS = 3  # a batch cut by the network or a 5xx is sent again (the server stages it whole or not at all)


def send(client: registry.RegistryClient, init: dict[str, Any], plan: pushplan.Plan, version: tuple[str, str, str],
         jobs: int, keep: Keep | None = None) -> int:
    """Send every file the upload start asked for (``init["file_urls"]``); return the bytes sent.
    ``keep`` is given the files of each batch, ``(key, bytes)``, once the registry staged them (on
    the thread that sent them): the caller stores them without reading them from disk again."""
    by_path = {i.path: i for i in plan.items}
    todo: list[tuple[str, pushplan.Item]] = []
    for fu in init.get("file_urls") or []:
        path = fu.get("path") if isinstance(fu, dict) else None
        item = by_path.get(path) if isinstance(path, str) else None
        if item is None or item.source is None:
            raise RegistryError(f"the registry asked for a file this push did not offer: {fu!r}")
        todo.append((str(fu["url"]), item))
    with output.transfer("push", len(todo), sum(i.key.size for _, i in todo)) as progress:
        return _Sending(client, str(init["session_token"]), version, progress, keep).run(todo, jobs)


class _Sending:
    """One push's uploads on a thread pool; ``stop`` makes the tasks not yet started give up."""

    def __init__(self, client: registry.RegistryClient, token: str, version: tuple[str, str, str],
                 progress: output.Transfer, keep: Keep | None) -> None:
        self.client, self.token, self.version, self.progress = client, token, version, progress
        self.keep = keep
        self.spec = "/".join(version)
        self.stop = threading.Event()
        self._lock = threading.Lock()
        self.sent = 0

    def run(self, todo: list[tuple[str, pushplan.Item]], jobs: int) -> int:
        small = [t for t in todo if t[1].key.size <= BATCH_FILE_MAX]
        tasks: list[tuple[Callable[[Any], None], Any]] = []
        if self.client.upload_batching and len(small) > 1:
            tasks += [(self.batch, b) for b in _batches(small)]
            tasks += [(self.one, t) for t in todo if t[1].key.size > BATCH_FILE_MAX]
        else:
            tasks += [(self.one, t) for t in todo]
        run_all(tasks, jobs, self.stop, "selenite-push")
        return self.sent

    def _count(self, n: int) -> None:
        with self._lock:
            self.sent += n

    def one(self, task: tuple[str, pushplan.Item]) -> None:
        """A file through its presigned URL (the gypsum protocol)."""
        url, item = task
        if self.stop.is_set():
            return
        put_url, md5_b64 = self.client.presigned_url(url, self.token, f"{self.spec}/{item.path}")
        assert item.source is not None
        if os.stat(item.source).st_size != item.key.size:
            raise FatalError(f"{item.path} changed while it was being pushed: run `selenite push` again")
        self.client.put_file(put_url, item.source, md5_b64, on_bytes=self.progress.advance_bytes, what=item.path)
        self._count(item.key.size)
        self.progress.file_done()

    def batch(self, tasks: list[tuple[str, pushplan.Item]]) -> None:
        """Several small files in one request; one by one when the registry has no batched route."""
        if self.stop.is_set():
            return
        if self.client.upload_batching and self._sent_together([item for _, item in tasks]):
            n = sum(item.key.size for _, item in tasks)
            self._count(n)
            self.progress.advance_bytes(n)
            for _ in tasks:
                self.progress.file_done()
            return
        for task in tasks:
            self.one(task)

    def _sent_together(self, items: list[pushplan.Item]) -> bool:
        """True once the registry staged the lot; False when it has no batched route (a gypsum worker)."""
        body, files = _framed(items)
        what = f"the upload of {len(items)} files of {self.spec}"
        attempt = 0
        while True:
            try:
                self.client.put_batch(*self.version, self.token, body, what)
                if self.keep is not None:
                    self.keep(files)
                return True
            except RegistryError as e:
                if e.status in (404, 405, 501):
                    self.client.upload_batching = False
                    return False
                attempt += 1
                if (e.status is not None and e.status < 500) or attempt == _ATTEMPTS:
                    raise


def _framed(items: list[pushplan.Item]) -> tuple[bytes, list[tuple[Key, bytes]]]:
    """The batched upload's body: per file a JSON line ``{"path", "size", "md5sum"}``, then its
    bytes; and each file's key with those bytes."""
    body = bytearray()
    files: list[tuple[Key, bytes]] = []
    for item in items:
        assert item.source is not None
        with open(item.source, "rb") as f:
            data = f.read(item.key.size + 1)
        if len(data) != item.key.size:
            raise FatalError(f"{item.path} changed while it was being pushed: run `selenite push` again")
        head = {"path": item.path, "size": item.key.size, "md5sum": item.key.md5}
        body += json.dumps(head).encode() + b"\n"
        body += data
        files.append((item.key, data))
    return bytes(body), files


def _batches(todo: list[tuple[str, pushplan.Item]]) -> list[list[tuple[str, pushplan.Item]]]:
    out: list[list[tuple[str, pushplan.Item]]] = []
    cur: list[tuple[str, pushplan.Item]] = []
    size = 0
    for t in todo:
        if cur and (len(cur) == BATCH_FILES or size + t[1].key.size > BATCH_BYTES):
            out.append(cur)
            cur, size = [], 0
        cur.append(t)
        size += t[1].key.size
    if cur:
        out.append(cur)
    return out
