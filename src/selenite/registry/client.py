"""``RegistryClient``: typed calls of the gypsum protocol, each checked before anything else sees
its answer (a wrong shape or type is a ``RegistryError``, never a crash).

Keys in ``/file/{key}`` are percent-encoded with ``quote(key, safe="")``: ``/`` becomes ``%2F``
and a space ``%20`` (never ``+``, which the reference worker does not decode).
"""

from __future__ import annotations

import contextlib
import os
import threading
import time
from collections.abc import Callable, Generator, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO
from urllib.parse import quote

from selenite.errors import Conflict, FatalError, NotFound, Refused, RegistryError, Unreachable
from selenite.keys import CHUNK
from selenite.registry import answers
from selenite.registry.answers import JSON_MAX, SMALL_JSON_MAX
from selenite.registry.records import BATCH_RECORD_MAX, Records
from selenite.registry.session import TIMEOUTS, make_session, translating

if TYPE_CHECKING:
    import requests

PUT_ATTEMPTS = 2  # each attempt already retries refused connections in the adapter


def quote_key(key: str) -> str:
    return quote(key, safe="")


class _CountingReader:
    """A file body with a known length (so the PUT has Content-Length, as presigned S3 PUTs need)
    that reports progress as it is read."""

    def __init__(self, f: BinaryIO, size: int, on_bytes: Callable[[int], None] | None) -> None:
        self._f, self._size, self._on = f, size, on_bytes
        self.sent = 0

    def __len__(self) -> int:
        return self._size

    def read(self, n: int = -1) -> bytes:
        block = self._f.read(CHUNK if n is None or n < 0 else max(n, 1 << 16))
        if block:
            self.sent += len(block)
            if self._on is not None:
                self._on(len(block))
        return block


class RegistryClient:
    """Typed calls of the gypsum protocol. ``url`` is the registry's base URL."""

    def __init__(self, url: str, token: str | None = None, session: requests.Session | None = None,
                 pool: int = 16) -> None:
        self.url = url.rstrip("/")
        self.token = token
        self._http, self._pool, self._making = session, pool, threading.Lock()
        self.batching = True  # POST /_selenite/objects works here (False once the registry refused it)
        self.upload_batching = True  # POST /_selenite/upload-batch works here (False once the registry refused it)

    # --- plumbing ----------------------------------------------------------------------------

    @property
    def http(self) -> requests.Session:
        """The HTTP session, made at the first request: a command that sends none (a re-clone of a
        named, cached version) never imports requests, its largest import (~40 ms)."""
        if self._http is None:
            with self._making:  # the first request may come from several download threads at once
                if self._http is None:
                    self._http = make_session(self._pool)
        return self._http

    def _abs(self, path: str) -> str:
        return path if path.startswith(("http://", "https://")) else self.url + path

    def request(
        self, method: str, path: str, what: str, *, token: str | None = None, json_body: Any = None,
        params: dict[str, str] | None = None, stream: bool = False, lookup: bool = False,
        limit: int = SMALL_JSON_MAX, headers: dict[str, str] | None = None, data: bytes | None = None,
    ) -> requests.Response:
        """One call; non-2xx (and 2xx error bodies) become ``RegistryError``; 404 ``NotFound``, told
        as "registry has no <what>" for a ``lookup`` (a file, a route that may not exist), else as a
        refusal. Unless ``stream``, the body is read here, at most ``limit`` bytes of it."""
        with translating(what, self.url):
            sent = {"Authorization": f"Bearer {token}"} if token else {}
            resp = self.http.request(
                method, self._abs(path), headers={**(headers or {}), **sent},
                json=json_body, data=data, params=params, stream=True, timeout=TIMEOUTS, allow_redirects=True,
            )
        if resp.status_code == 404:
            reason = answers.reason(resp)
            resp.close()
            raise NotFound(f"registry {'has no' if lookup else 'refused'} {what}: 404 {reason}", 404)
        if resp.status_code >= 400:
            reason = answers.reason(resp)
            resp.close()
            raise _refusal(resp.status_code)(f"registry refused {what}: {resp.status_code} {reason}",
                                             resp.status_code)
        if not stream:
            data, more = answers.read_capped(resp, limit)
            if more:
                resp.close()
                raise RegistryError(f"registry sent more than {limit >> 10} KiB for {what}: refused")
            # What ``resp.content`` would have read, unbounded (the body was read to its end, so the
            # connection is back in the pool).
            resp._content = data
            try:
                body = answers.load_json(data) if "json" in resp.headers.get("content-type", "") else None
            except ValueError:
                body = None
            err = answers.error_body(resp, body)
            if err is not None:
                raise _refusal(resp.status_code)(f"registry refused {what}: {resp.status_code} {err}",
                                                 resp.status_code)
        return resp

    def _json(self, resp: requests.Response, what: str) -> Any:
        try:
            return answers.load_json(resp.content)
        except ValueError:
            raise RegistryError(f"registry sent something that is not JSON for {what}") from None

    # --- reading ----------------------------------------------------------------------------

    def list_keys(self, prefix: str | None = None, recursive: bool = False) -> list[str]:
        """``GET /list``: keys (and ``dir/`` prefixes unless recursive) under ``prefix``."""
        params = {"recursive": "true" if recursive else "false"}
        if prefix:
            params["prefix"] = prefix
        what = f"listing of {prefix or '/'}"
        data = self._json(self.request("GET", "/list", what, params=params, limit=JSON_MAX), what)
        if not isinstance(data, list) or not all(isinstance(x, str) for x in data):
            raise RegistryError("registry sent a malformed listing")
        return data

    def _children(self, prefix: str) -> list[str]:
        names = []
        for entry in self.list_keys(prefix):
            if entry.endswith("/") and entry.startswith(prefix):
                name = entry[len(prefix) : -1]
                if name and not name.startswith("..") and "/" not in name:
                    names.append(name)
        return sorted(names)

    def list_projects(self) -> list[str]:
        return self._children("")

    def list_assets(self, project: str) -> list[str]:
        return self._children(f"{project}/")

    def list_versions(self, project: str, asset: str) -> list[str]:
        return self._children(f"{project}/{asset}/")

    def get_json(self, key: str, what: str | None = None, limit: int = SMALL_JSON_MAX) -> Any:
        """A JSON file of the bucket (manifest, summary, latest...)."""
        resp = self.request("GET", f"/file/{quote_key(key)}", what or f"file {key}", lookup=True, limit=limit)
        return self._json(resp, what or key)

    def iter_file(self, key: str, size: int | None = None, chunk: int = CHUNK) -> Iterator[bytes]:
        """Stream ``/file/{key}`` in chunks (flat memory). A broken stream raises ``RegistryError``,
        and so does one that passes ``size`` (the size the key declares), as soon as it does."""
        resp = self.request("GET", f"/file/{quote_key(key)}", f"file {key}", stream=True, lookup=True)
        return self._capped(resp, key, size, chunk)

    def iter_range(self, key: str, size: int, first: int, last: int | None = None, chunk: int = CHUNK
                   ) -> tuple[int, Generator[bytes, None, None]]:
        """Stream bytes ``first``..``last`` (inclusive; None: to the end) of ``/file/{key}``, an
        object of ``size`` bytes. Returns where the stream starts: ``first`` when the registry sent
        that range (206), 0 when it sent the whole object (200: a gypsum worker ignores ``Range``).
        A 206 for other bytes than asked, or of an object of another size, raises ``RegistryError``;
        so does a range the object does not hold (416)."""
        end = size - 1 if last is None else last
        resp = self.request("GET", f"/file/{quote_key(key)}", f"file {key}", stream=True, lookup=True,
                            headers={"Range": f"bytes={first}-{end}"})
        if resp.status_code != 206:
            return 0, self._capped(resp, key, size, chunk)
        if answers.content_range(resp) != (first, end, size):
            resp.close()
            raise RegistryError(f"registry sent other bytes of {key} than bytes {first}-{end} of {size}")
        return first, self._capped(resp, key, end - first + 1, chunk)

    @staticmethod
    def _capped(resp: requests.Response, key: str, size: int | None, chunk: int) -> Generator[bytes, None, None]:
        got = 0
        try:
            with translating(f"download of {key}"):
                for block in resp.iter_content(chunk):
                    got += len(block)
                    if size is not None and got > size:
                        raise RegistryError(f"registry sent more bytes than declared for {key} ({size})")
                    yield block
        finally:
            resp.close()

    def get_objects(self, keys: list[str], sizes: list[int] | None = None
                    ) -> Generator[tuple[str, bytes | None], None, None]:
        """``POST /_selenite/objects`` (a selenite registry's extra): several small files in one
        response, yielded in order as (key, bytes), None for an absent key. One request instead of
        one per file is what makes cloning thousands of small files cheap for both sides. A registry
        without the route (a gypsum worker) raises ``RegistryError`` before anything is yielded; a
        broken stream raises it midway, and so does a record whose size is not the one expected
        (``sizes``, in the order of ``keys``; else at most ``BATCH_RECORD_MAX``) before it is read."""
        resp = self.request("POST", "/_selenite/objects", f"{len(keys)} files", json_body={"keys": keys},
                            stream=True, lookup=True)
        try:
            with translating("batched download"):
                records = Records(resp.iter_content(CHUNK))
                for i, expected in enumerate(keys):
                    key, size = records.header()
                    if key != expected:
                        raise RegistryError(f"registry sent {key!r} where {expected!r} was due in a batch")
                    if size >= 0 and sizes is not None and size != sizes[i]:
                        raise RegistryError(f"registry declared {size} bytes for {key} in a batch, not {sizes[i]}")
                    if size > BATCH_RECORD_MAX:
                        raise RegistryError(
                            f"registry declared {size} bytes for {key} in a batch (at most {BATCH_RECORD_MAX})")
                    yield key, (None if size < 0 else records.read(size))
        finally:
            resp.close()

    def _version_json(self, project: str, asset: str, version: str, name: str, limit: int = SMALL_JSON_MAX
                      ) -> dict[str, Any]:
        data = self.get_json(f"{project}/{asset}/{version}/..{name}", f"version {project}/{asset}/{version}",
                             limit=limit)
        if not isinstance(data, dict):
            raise RegistryError(f"the {name} of {project}/{asset}/{version} is not a JSON object")
        return data

    def manifest(self, project: str, asset: str, version: str) -> dict[str, Any]:
        return self._version_json(project, asset, version, "manifest", JSON_MAX)

    def summary(self, project: str, asset: str, version: str) -> dict[str, Any]:
        return self._version_json(project, asset, version, "summary")

    def latest(self, project: str, asset: str) -> str | None:
        """The latest non-probational version, or None when the asset has none."""
        try:
            data = self.get_json(f"{project}/{asset}/..latest", f"latest version of {project}/{asset}")
        except NotFound:
            return None
        v = data.get("version") if isinstance(data, dict) else None
        if not isinstance(v, str) or not v:
            raise RegistryError(f"the latest-version file of {project}/{asset} is malformed")
        return v

    def whoami(self) -> dict[str, Any] | None:
        """``GET /_selenite/whoami`` with this client's token: ``{"user", "admin"}``, or None when the
        registry has no such route (a gypsum worker). A refused token raises ``RegistryError``."""
        try:
            data = self._json(self.request("GET", "/_selenite/whoami", "this token", token=self.token, lookup=True),
                              "whoami")
        except NotFound:
            return None
        if not isinstance(data, dict) or not isinstance(data.get("user"), str):
            raise RegistryError("registry sent a malformed answer to whoami")
        return data

    # --- uploading ----------------------------------------------------------------------------

    def upload_start(
        self, project: str, asset: str, version: str, files: list[dict[str, Any]], on_probation: bool = False
    ) -> dict[str, Any]:
        """``POST /upload/start``: returns ``file_urls``, ``complete_url``, ``abort_url``, ``session_token``."""
        path = f"/upload/start/{quote_key(project)}/{quote_key(asset)}/{quote_key(version)}"
        resp = self.request(
            "POST", path, f"upload start of {project}/{asset}/{version}", token=self.token,
            json_body={"files": files, "on_probation": on_probation},
        )
        data = self._json(resp, "upload start")
        if not answers.is_upload_start(data):
            raise RegistryError(f"registry sent a malformed answer to the upload start of {project}/{asset}/{version}")
        return dict(data)

    def presigned_url(self, file_url: str, session_token: str, what: str) -> tuple[str, str]:
        """``POST /upload/presigned-file/<slug>``: (URL to PUT the bytes to, base64 md5)."""
        data = self._json(self.request("POST", file_url, f"upload URL for {what}", token=session_token),
                          "presigned URL")
        if not isinstance(data, dict) or not isinstance(data.get("url"), str):
            raise RegistryError(f"registry sent a malformed presigned URL for {what}")
        return self._abs(data["url"]), str(data.get("md5sum_base64", ""))

    def put_file(self, url: str, path: Path, md5_b64: str, on_bytes: Callable[[int], None] | None = None,
                 what: str = "") -> None:
        """PUT a file's bytes to a presigned URL, streaming from disk with ``Content-MD5``.
        Retried (re-opening the file) on connection errors, timeouts and 5xx."""
        name = what or path.name
        size = os.stat(path).st_size
        last = ""
        for attempt in range(PUT_ATTEMPTS):
            resp: requests.Response | None = None
            with open(path, "rb") as f:
                body = _CountingReader(f, size, on_bytes)
                try:
                    with translating(f"upload of {name}", self.url):
                        resp = self.http.put(url, data=body, timeout=TIMEOUTS,
                                             headers={"Content-MD5": md5_b64, "Content-Length": str(size)})
                except Unreachable as e:
                    last = e.detail
                if on_bytes is not None and body.sent:
                    on_bytes(-body.sent)  # progress restarts with the retry (or is re-added below)
            if resp is not None and resp.status_code < 400:
                if on_bytes is not None:
                    on_bytes(size)
                return
            if resp is not None:
                last = f"{resp.status_code} {answers.reason(resp)}"
                if resp.status_code < 500:
                    raise RegistryError(f"registry refused the upload of {name}: {last}", resp.status_code)
            time.sleep(0.25 * 2**attempt)
        raise RegistryError(f"upload of {name} failed after {PUT_ATTEMPTS} attempts: {last}")

    def put_batch(self, project: str, asset: str, version: str, session_token: str, body: bytes, what: str) -> None:
        """``POST /_selenite/upload-batch/...`` (a selenite registry's extra): several files of the upload
        session in one request, ``body`` framed as ``pushfiles`` makes it. A gypsum worker has no
        such route: ``NotFound`` (404)."""
        path = f"/_selenite/upload-batch/{quote_key(project)}/{quote_key(asset)}/{quote_key(version)}"
        self.request("POST", path, what, token=session_token, data=body, lookup=True,
                     headers={"Content-Type": "application/octet-stream"}).close()

    def upload_complete(self, complete_url: str, session_token: str, what: str) -> None:
        self.request("POST", complete_url, f"upload completion of {what}", token=session_token).close()

    def upload_abort(self, abort_url: str, session_token: str, what: str) -> None:
        self.request("POST", abort_url, f"upload abort of {what}", token=session_token).close()

    def close(self) -> None:
        if self._http is not None:
            self._http.close()


def _refusal(status: int) -> type[RegistryError]:
    """The public class of a refusal by its status: who may not (401, 403), what is in the way (409)."""
    return Refused if status in (401, 403) else Conflict if status == 409 else RegistryError


def connect(url: str | None, token: str | None = None, jobs: int = 8) -> RegistryClient:
    """A client for ``url`` with a pool for ``jobs`` parallel transfers."""
    if not url:
        raise FatalError("no registry URL: pass --url, set SELENITE_URL, or run inside a working tree")
    return RegistryClient(url, token, pool=max(jobs + 2, 8))


@contextlib.contextmanager
def session_for(url: str | None, token: str | None = None, jobs: int = 8) -> Iterator[RegistryClient]:
    client = connect(url, token, jobs)
    try:
        yield client
    finally:
        client.close()
