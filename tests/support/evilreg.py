"""A hostile registry for client tests: a real HTTP server on 127.0.0.1 that answers the gypsum read
routes selenite's client uses from a dict of crafted objects, and records every request.

It answers what a test puts in ``objects`` (bucket key -> bytes) and nothing else checks anything:
manifests may name any path, batched answers may declare any size, downloads may run long.

    reg.add_version("p", "a", "v1", {"ok.txt": b"fine\\n", ".git/config": b"[core]\\n"})
    selenite("clone", "--url", reg.url, "p/a@v1", dest, check=False)
    assert [r.path for r in reg.requests if r.method == "POST"] == [...]

Routes (gypsum-api.md §1.18-§1.19, plus selenite's batch route):
- ``GET /list?prefix=P&recursive=true|false``: keys under P (folders as ``dir/`` unless recursive);
- ``GET|HEAD /file/{key}``: the object (``file_body[key]`` overrides the bytes; it may be a callable
  returning an iterator of chunks, sent with no Content-Length, e.g. an endless stream);
- ``POST /_selenite/objects``: one ``{"key", "size"}`` line then the bytes per key; ``batch_size[key]``
  overrides the declared size and ``batch_body[key]`` the bytes sent (a liar's batch answer; a
  callable streams, e.g. ``Endless()``); ``batching = False`` answers 404 as a gypsum worker does.

``Endless(limit)`` is a body that never ends (up to ``limit`` bytes, so a test stays bounded even
against a client that keeps reading) and counts what it sent: ``file_body[key] = flood = Endless()``
then ``assert flood.sent < ...``.

Anything else is 404, unless a test adds a handler in ``routes``: ``{("POST", "/upload/start/"):
fn}``, matched by method and path prefix; ``fn(req: Request) -> Reply``. A test can also subclass
and override ``handle``.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

Body = bytes | Callable[[], Iterable[bytes]]


class Endless:
    """A body callable: ``block`` repeated until ``limit`` bytes or the client hangs up; ``sent``
    counts the bytes handed to the socket (over all requests it answered)."""

    def __init__(self, limit: int = 1 << 30, block: bytes = b"x" * (1 << 20), head: bytes = b"") -> None:
        self.limit, self.block, self.head = limit, block, head
        self.sent = 0

    def __call__(self) -> Iterator[bytes]:
        if self.head:
            self.sent += len(self.head)
            yield self.head
        given = 0
        while given < self.limit:
            self.sent += len(self.block)
            given += len(self.block)
            yield self.block


@dataclass
class Request:
    """One request as the server saw it (path decoded once, as the real server decodes keys)."""

    method: str
    path: str  # the raw path, without the query
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Reply:
    status: int = 200
    body: Body = b""
    headers: dict[str, str] = field(default_factory=dict)

    @classmethod
    def of_json(cls, value: Any, status: int = 200) -> Reply:
        return cls(status, json.dumps(value).encode(), {"Content-Type": "application/json"})


def _now() -> str:
    return datetime.now(UTC).isoformat().replace("+00:00", "Z")


class EvilRegistry:
    """Start with ``start()`` (or use as a context manager, or the ``evilreg`` fixture)."""

    def __init__(self) -> None:
        self.objects: dict[str, bytes] = {}
        self.file_body: dict[str, Body] = {}
        self.batch_size: dict[str, int] = {}
        self.batch_body: dict[str, Body] = {}
        self.batching = True
        self.routes: dict[tuple[str, str], Callable[[Request], Reply]] = {}
        self.requests: list[Request] = []
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # --- content -----------------------------------------------------------------------------

    def put(self, key: str, data: bytes | dict[str, Any] | list[Any]) -> None:
        """One bucket object; dicts and lists are stored as their JSON."""
        self.objects[key] = data if isinstance(data, bytes) else json.dumps(data).encode()

    def add_version(
        self, project: str, asset: str, version: str, files: dict[str, bytes], *,
        manifest: dict[str, Any] | None = None, latest: bool = True, on_probation: bool = False,
        finished: bool = True, store: bool = True,
    ) -> dict[str, Any]:
        """A version holding ``files`` (path -> bytes): their objects, a manifest with their md5s
        and sizes, a summary, and ``..latest`` (when ``latest``). ``manifest`` entries are added
        to (or replace) the computed ones as given: crafted sizes, md5s, links. ``store=False``
        lists files in the manifest without storing their bytes. Returns the manifest."""
        prefix = f"{project}/{asset}/{version}"
        m: dict[str, Any] = {}
        for path, data in files.items():
            m[path] = {"size": len(data), "md5sum": hashlib.md5(data).hexdigest()}
            if store:
                self.objects[f"{prefix}/{path}"] = data
        m.update(manifest or {})
        self.put(f"{prefix}/..manifest", m)
        summary: dict[str, Any] = {"upload_user_id": "evil", "upload_start": _now()}
        if finished:
            summary["upload_finish"] = _now()
        if on_probation:
            summary["on_probation"] = True
        self.put(f"{prefix}/..summary", summary)
        if latest and finished and not on_probation:
            self.put(f"{project}/{asset}/..latest", {"version": version})
        return m

    def requested(self, method: str | None = None, prefix: str = "") -> list[Request]:
        with self._lock:
            return [r for r in self.requests if (method is None or r.method == method) and r.path.startswith(prefix)]

    # --- answers (override in a subclass for anything fancier) ----------------------------------

    def handle(self, req: Request) -> Reply:
        for (method, prefix), fn in self.routes.items():
            if req.method == method and req.path.startswith(prefix):
                return fn(req)
        if req.method in ("GET", "HEAD") and req.path.startswith("/file/"):
            return self.file(unquote(req.path[len("/file/"):]))
        if req.method == "GET" and req.path == "/list":
            return self.listing(req.query.get("prefix", ""), req.query.get("recursive") == "true")
        if req.method == "POST" and req.path == "/_selenite/objects" and self.batching:
            return self.batch(req.json().get("keys", []))
        return Reply.of_json({"status": "error", "reason": "no such route here"}, 404)

    def file(self, key: str) -> Reply:
        body = self.file_body.get(key, self.objects.get(key))
        if body is None:
            return Reply.of_json({"status": "error", "reason": "object not found"}, 404)
        ctype = "application/json" if key.rsplit("/", 1)[-1].startswith("..") else "application/octet-stream"
        return Reply(200, body, {"Content-Type": ctype})

    def listing(self, prefix: str, recursive: bool) -> Reply:
        out: set[str] = set()
        for key in self.objects:
            if not key.startswith(prefix):
                continue
            rest = key[len(prefix):]
            out.add(key if recursive or "/" not in rest else prefix + rest.split("/", 1)[0] + "/")
        return Reply.of_json(sorted(out))

    def batch(self, keys: list[str]) -> Reply:
        def records() -> Iterator[bytes]:
            for key in keys:
                data = self.batch_body.get(key, self.objects.get(key))
                size = self.batch_size.get(key, -1 if data is None or callable(data) else len(data))
                yield json.dumps({"key": key, "size": size}).encode() + b"\n"
                if callable(data):
                    yield from data()
                elif data is not None:
                    yield data

        return Reply(200, records, {"Content-Type": "application/octet-stream"})

    # --- the server ----------------------------------------------------------------------------

    @property
    def url(self) -> str:
        assert self._server is not None, "start() the registry first"
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def start(self) -> EvilRegistry:
        reg = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.0"  # one request per connection: a streamed body ends at close

            def _serve(self) -> None:
                parts = urlsplit(self.path)
                n = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(n) if n else b""
                req = Request(self.command, parts.path, {k: v[-1] for k, v in parse_qs(parts.query).items()},
                              dict(self.headers.items()), body)
                with reg._lock:
                    reg.requests.append(req)
                try:
                    reply = reg.handle(req)
                except Exception as e:  # a broken test handler: say so instead of hanging the client
                    reply = Reply.of_json({"status": "error", "reason": f"evilreg: {e!r}"}, 500)
                self.send_response(reply.status)
                fixed = reply.body if isinstance(reply.body, bytes) else None
                for k, v in reply.headers.items():
                    self.send_header(k, v)
                if fixed is not None:
                    self.send_header("Content-Length", str(len(fixed)))
                self.end_headers()
                if self.command == "HEAD":
                    return
                try:
                    if fixed is not None:
                        self.wfile.write(fixed)
                    else:
                        for chunk in reply.body():  # type: ignore[operator]
                            self.wfile.write(chunk)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client stopped reading: what a careful client does with a liar

            do_GET = do_HEAD = do_POST = do_PUT = do_DELETE = _serve

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, name="evilreg", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> EvilRegistry:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
