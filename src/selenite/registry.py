"""The REST client for a gypsum-style registry, over one ``requests.Session``.

One session per command: a connection pool sized for parallel transfers, timeouts on every call,
and retries with backoff on connection errors and 5xx answers for idempotent methods only (GET,
HEAD; a presigned PUT is retried here by re-opening the file, since a consumed stream cannot be
re-sent). A refusal becomes a one-line ``RegistryError`` carrying the registry's own ``reason``:
``registry refused upload start of p/a/v: 403 user is not authorized to upload``.

Keys in ``/file/{key}`` are percent-encoded with ``quote(key, safe="")``: ``/`` becomes ``%2F``
and a space ``%20`` (never ``+``, which the reference worker does not decode).

Every answer is hostile until checked here: a wrong shape or type is a ``RegistryError``, never a
crash; no answer is read past what it may hold. JSON answers stop at ``JSON_MAX`` bytes (manifests
and listings, about a million files) or ``SMALL_JSON_MAX`` (everything else), refusal reasons at
``REASON_MAX``; a download stops as soon as it passes the size its key declares.
"""

from __future__ import annotations

import contextlib
import json
import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, BinaryIO

import requests
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from selenite import __version__
from selenite.errors import FatalError, RegistryError
from selenite.keys import CHUNK

CONNECT_TIMEOUT = 10.0
READ_TIMEOUT = 120.0
PUT_ATTEMPTS = 2  # each attempt already retries refused connections in the adapter
JSON_MAX = 128 << 20  # a manifest or listing of about a million files
SMALL_JSON_MAX = 1 << 20  # summaries, latest, permissions, upload answers...
REASON_MAX = 64 << 10  # the body of a refusal: only its first line is shown
BATCH_RECORD_MAX = 16 << 20  # a batched record when the caller gives no expected size


class NotFound(RegistryError):
    """The registry has no such key (404)."""


class _Session(requests.Session):
    """A ``requests.Session`` that reads the environment's proxy and CA-bundle settings once per
    host instead of on every request. requests walks the whole environment twice per request for
    them, about a third of the client's time per file when cloning thousands of small files; the
    environment does not change while a command runs."""

    def __init__(self) -> None:
        super().__init__()
        self._env_settings: dict[tuple[str, str, object], dict[str, Any]] = {}

    def merge_environment_settings(self, url, proxies, stream, verify, cert):  # type: ignore[no-untyped-def]
        if proxies or verify is not None or cert is not None:  # per-call settings: nothing to reuse
            return super().merge_environment_settings(url, proxies, stream, verify, cert)
        from urllib.parse import urlsplit

        parts = urlsplit(url)
        key = (parts.scheme, parts.netloc, stream)
        hit = self._env_settings.get(key)
        if hit is None:
            hit = super().merge_environment_settings(url, proxies, stream, verify, cert)
            self._env_settings[key] = hit
        return dict(hit)


def make_session(pool: int = 16, retries: int = 4) -> requests.Session:
    """A session with a pool for ``pool`` parallel transfers and retries on transient failures."""
    retry = Retry(
        # Waits 0, 0.5, 1, 2 s: rides out a restarting server, yet a dead one fails a push in seconds.
        total=retries,
        connect=retries,
        read=2,
        status=retries,
        backoff_factor=0.25,
        status_forcelist=(500, 502, 503, 504),
        allowed_methods=frozenset({"GET", "HEAD"}),  # idempotent only; POSTs are never replayed
        raise_on_status=False,
        respect_retry_after_header=True,
    )
    adapter = HTTPAdapter(pool_connections=4, pool_maxsize=max(pool, 4), max_retries=retry)
    s = _Session()
    s.mount("http://", adapter)
    s.mount("https://", adapter)
    s.headers["User-Agent"] = f"selenite/{__version__}"
    return s


def quote_key(key: str) -> str:
    from urllib.parse import quote

    return quote(key, safe="")


def _read_capped(resp: requests.Response, limit: int) -> tuple[bytes, bool]:
    """A streamed body of at most ``limit`` bytes, and False; or b"" and True when there is more
    (flat memory: a registry may send gigabytes where a few bytes are due)."""
    buf = bytearray()
    try:
        for block in resp.iter_content(min(limit + 1, CHUNK)):
            buf += block
            if len(buf) > limit:
                return b"", True  # the caller refuses the answer: no copy of it
    except (requests.RequestException, OSError) as e:
        raise RegistryError(f"the registry's answer broke off: {_short(e)}") from None
    return bytes(buf), False


def _load_json(data: bytes) -> Any:
    try:
        return json.loads(data)
    except (ValueError, RecursionError):  # RecursionError: absurdly deep nesting
        raise ValueError("not JSON") from None


def _reason(resp: requests.Response) -> str:
    try:
        data, _ = _read_capped(resp, REASON_MAX)
    except RegistryError:
        data = b""
    try:
        body = _load_json(data)
    except ValueError:
        body = None
    if isinstance(body, dict) and isinstance(body.get("reason"), str):
        reason: str = body["reason"]
    else:
        text = data.decode("utf-8", "replace").strip().splitlines()
        reason = text[0] if text else (resp.reason or "")
    return reason[:200] if reason.isprintable() else repr(reason[:200])


def _error_body(resp: requests.Response, body: Any) -> str | None:
    """The worker sometimes answers 200 with an error body; treat that as a refusal too."""
    if "json" not in resp.headers.get("content-type", ""):
        return None
    if isinstance(body, dict) and body.get("status") == "error":
        return str(body.get("reason", "error"))[:200]
    return None


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


class _Records:
    """Reads a ``/_selenite/objects`` answer: a JSON header line, then that many bytes, repeated."""

    def __init__(self, chunks: Iterator[bytes]) -> None:
        self._chunks = chunks
        self._buf = bytearray()
        self._pos = 0

    def _more(self) -> None:
        block = next(self._chunks, b"")
        if not block:
            raise RegistryError("registry's batched answer ended early")
        if self._pos:  # drop what was read (in place: appending stays linear in the bytes received)
            del self._buf[: self._pos]
            self._pos = 0
        self._buf += block

    def header(self) -> tuple[str, int]:
        while (nl := self._buf.find(b"\n", self._pos)) < 0:
            if len(self._buf) - self._pos > 65536:
                raise RegistryError("registry sent a malformed batched answer")
            self._more()
        line, self._pos = self._buf[self._pos : nl], nl + 1
        try:
            head = json.loads(line)
            key, size = head["key"], head["size"]
        except (ValueError, KeyError, TypeError):
            raise RegistryError("registry sent a malformed batched answer") from None
        if not isinstance(key, str) or not isinstance(size, int) or isinstance(size, bool) or size < -1:
            raise RegistryError("registry sent a malformed batched answer")
        return key, size

    def read(self, n: int) -> bytes:
        while len(self._buf) - self._pos < n:
            self._more()
        data, self._pos = bytes(self._buf[self._pos : self._pos + n]), self._pos + n
        return data


class RegistryClient:
    """Typed calls of the gypsum protocol. ``url`` is the registry's base URL."""

    def __init__(self, url: str, token: str | None = None, session: requests.Session | None = None, pool: int = 16) -> None:
        self.url = url.rstrip("/")
        self.token = token
        self.http = session or make_session(pool)
        self.batching = True  # POST /_selenite/objects works here (False once the registry refused it)

    # --- plumbing ----------------------------------------------------------------------------

    def _abs(self, path: str) -> str:
        return path if path.startswith(("http://", "https://")) else self.url + path

    def _auth(self, token: str | None) -> dict[str, str]:
        return {"Authorization": f"Bearer {token}"} if token else {}

    def request(
        self, method: str, path: str, what: str, *, token: str | None = None, json_body: Any = None,
        params: dict[str, str] | None = None, stream: bool = False, ok404: bool = False,
        limit: int = SMALL_JSON_MAX,
    ) -> requests.Response:
        """One call; non-2xx (and 2xx error bodies) become ``RegistryError``; 404 ``NotFound``.
        Unless ``stream``, the body is read here, at most ``limit`` bytes of it."""
        try:
            resp = self.http.request(
                method, self._abs(path), headers=self._auth(token), json=json_body, params=params,
                stream=True, timeout=(CONNECT_TIMEOUT, READ_TIMEOUT), allow_redirects=True,
            )
        except requests.exceptions.RetryError as e:
            raise RegistryError(f"registry failed {what}: gave up after retries ({e})") from None
        except requests.ConnectionError as e:
            raise RegistryError(f"cannot reach the registry at {self.url} ({what}): {_short(e)}") from None
        except requests.Timeout:
            raise RegistryError(f"the registry at {self.url} timed out ({what})") from None
        except requests.RequestException as e:
            raise RegistryError(f"registry request failed ({what}): {_short(e)}") from None
        if resp.status_code == 404:
            reason = _reason(resp)
            resp.close()
            if ok404:
                raise NotFound(f"registry has no {what}: 404 {reason}", 404)
            raise NotFound(f"registry refused {what}: 404 {reason}", 404)
        if resp.status_code >= 400:
            reason = _reason(resp)
            resp.close()
            raise RegistryError(f"registry refused {what}: {resp.status_code} {reason}", resp.status_code)
        if not stream:
            data, more = _read_capped(resp, limit)
            if more:
                resp.close()
                raise RegistryError(f"registry sent more than {limit >> 10} KiB for {what}: refused")
            # What ``resp.content`` would have read, unbounded (the connection went back to the pool
            # once the body was read to its end).
            resp._content, resp._content_consumed = data, True
            try:
                body = _load_json(data) if "json" in resp.headers.get("content-type", "") else None
            except ValueError:
                body = None
            err = _error_body(resp, body)
            if err is not None:
                raise RegistryError(f"registry refused {what}: {resp.status_code} {err}", resp.status_code)
        return resp

    def _json(self, resp: requests.Response, what: str) -> Any:
        try:
            return _load_json(resp.content)
        except ValueError:
            raise RegistryError(f"registry sent something that is not JSON for {what}") from None

    # --- reading ----------------------------------------------------------------------------

    def list(self, prefix: str | None = None, recursive: bool = False) -> list[str]:
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
        for entry in self.list(prefix):
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

    def list_files(self, project: str, asset: str, version: str) -> list[str]:
        prefix = f"{project}/{asset}/{version}/"
        return sorted(k[len(prefix) :] for k in self.list(prefix, recursive=True) if k.startswith(prefix))

    def head(self, key: str) -> dict[str, str] | None:
        """``HEAD /file/{key}``: the headers (size, etag), or None when absent."""
        try:
            resp = self.request("HEAD", f"/file/{quote_key(key)}", f"file {key}", ok404=True)
        except NotFound:
            return None
        return dict(resp.headers)

    def get_json(self, key: str, what: str | None = None, limit: int = SMALL_JSON_MAX) -> Any:
        """A JSON file of the bucket (manifest, summary, latest, permissions, quota, usage...)."""
        resp = self.request("GET", f"/file/{quote_key(key)}", what or f"file {key}", ok404=True, limit=limit)
        return self._json(resp, what or key)

    def iter_file(self, key: str, size: int | None = None, chunk: int = CHUNK) -> Iterator[bytes]:
        """Stream ``/file/{key}`` in chunks (flat memory). A broken stream raises ``RegistryError``,
        and so does one that passes ``size`` (the size the key declares), as soon as it does."""
        resp = self.request("GET", f"/file/{quote_key(key)}", f"file {key}", stream=True, ok404=True)
        got = 0
        try:
            for block in resp.iter_content(chunk):
                got += len(block)
                if size is not None and got > size:
                    raise RegistryError(f"registry sent more bytes than declared for {key} ({size})")
                yield block
        except (requests.RequestException, OSError) as e:
            raise RegistryError(f"download of {key} broke off: {_short(e)}") from None
        finally:
            resp.close()

    def get_objects(self, keys: list[str], sizes: list[int] | None = None) -> Iterator[tuple[str, bytes | None]]:
        """``POST /_selenite/objects`` (a selenite registry's extra): several small files in one
        response, yielded in order as (key, bytes), None for an absent key. One request instead of
        one per file is what makes cloning thousands of small files cheap for both sides. A registry
        without the route (a gypsum worker) raises ``RegistryError`` before anything is yielded; a
        broken stream raises it midway, and so does a record whose size is not the one expected
        (``sizes``, in the order of ``keys``; else at most ``BATCH_RECORD_MAX``) before it is read."""
        resp = self.request("POST", "/_selenite/objects", f"{len(keys)} files", json_body={"keys": keys},
                            stream=True, ok404=True)
        try:
            records = _Records(resp.iter_content(CHUNK))
            for i, expected in enumerate(keys):
                key, size = records.header()
                if key != expected:
                    raise RegistryError(f"registry sent {key!r} where {expected!r} was due in a batch")
                if size >= 0 and sizes is not None and size != sizes[i]:
                    raise RegistryError(f"registry declared {size} bytes for {key} in a batch, not {sizes[i]}")
                if size > BATCH_RECORD_MAX:
                    raise RegistryError(f"registry declared {size} bytes for {key} in a batch (at most {BATCH_RECORD_MAX})")
                yield key, (None if size < 0 else records.read(size))
        except (requests.RequestException, OSError) as e:
            raise RegistryError(f"batched download broke off: {_short(e)}") from None
        finally:
            resp.close()

    def manifest(self, project: str, asset: str, version: str) -> dict[str, Any]:
        data = self.get_json(f"{project}/{asset}/{version}/..manifest", f"version {project}/{asset}/{version}",
                             limit=JSON_MAX)
        if not isinstance(data, dict):
            raise RegistryError(f"the manifest of {project}/{asset}/{version} is not a JSON object")
        return data

    def summary(self, project: str, asset: str, version: str) -> dict[str, Any]:
        data = self.get_json(f"{project}/{asset}/{version}/..summary", f"version {project}/{asset}/{version}")
        if not isinstance(data, dict):
            raise RegistryError(f"the summary of {project}/{asset}/{version} is not a JSON object")
        return data

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

    def permissions(self, project: str) -> dict[str, Any]:
        return self._object(f"{project}/..permissions", f"project {project}")

    def quota(self, project: str) -> dict[str, Any]:
        return self._object(f"{project}/..quota", f"quota of {project}")

    def usage(self, project: str) -> int:
        total = self._object(f"{project}/..usage", f"usage of {project}").get("total")
        if not isinstance(total, int) or isinstance(total, bool):
            raise RegistryError(f"the usage file of {project} is malformed")
        return total

    def _object(self, key: str, what: str) -> dict[str, Any]:
        data = self.get_json(key, what)
        if not isinstance(data, dict):
            raise RegistryError(f"registry sent a malformed answer for {what}: not a JSON object")
        return data

    def whoami(self) -> dict[str, Any] | None:
        """``GET /_selenite/whoami`` with this client's token: ``{"user", "admin"}``, or None when the
        registry has no such route (a gypsum worker). A refused token raises ``RegistryError``."""
        try:
            data = self._json(self.request("GET", "/_selenite/whoami", "this token", token=self.token, ok404=True),
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
        if not _is_upload_start(data):
            raise RegistryError(f"registry sent a malformed answer to the upload start of {project}/{asset}/{version}")
        return data  # type: ignore[no-any-return]

    def presigned_url(self, file_url: str, session_token: str, what: str) -> tuple[str, str]:
        """``POST /upload/presigned-file/<slug>``: (URL to PUT the bytes to, base64 md5)."""
        data = self._json(self.request("POST", file_url, f"upload URL for {what}", token=session_token), "presigned URL")
        if not isinstance(data, dict) or not isinstance(data.get("url"), str):
            raise RegistryError(f"registry sent a malformed presigned URL for {what}")
        return self._abs(data["url"]), str(data.get("md5sum_base64", ""))

    def put_file(self, url: str, path: Path, md5_b64: str, on_bytes: Callable[[int], None] | None = None, what: str = "") -> None:
        """PUT a file's bytes to a presigned URL, streaming from disk with ``Content-MD5``.
        Retried (re-opening the file) on connection errors and 5xx."""
        size = os.stat(path).st_size
        last = ""
        for attempt in range(PUT_ATTEMPTS):
            with open(path, "rb") as f:
                body = _CountingReader(f, size, on_bytes)
                try:
                    resp = self.http.put(
                        url, data=body, headers={"Content-MD5": md5_b64, "Content-Length": str(size)},
                        timeout=(CONNECT_TIMEOUT, READ_TIMEOUT),
                    )
                except (requests.ConnectionError, requests.Timeout) as e:
                    last = _short(e)
                    resp = None
                if on_bytes is not None and body.sent:
                    on_bytes(-body.sent)  # progress restarts with the retry (or is re-added below)
            if resp is not None and resp.status_code < 400:
                if on_bytes is not None:
                    on_bytes(size)
                return
            if resp is not None:
                last = f"{resp.status_code} {_reason(resp)}"
                if resp.status_code < 500:
                    raise RegistryError(f"registry refused the upload of {what or path.name}: {last}", resp.status_code)
            time.sleep(0.25 * 2**attempt)
        raise RegistryError(f"upload of {what or path.name} failed after {PUT_ATTEMPTS} attempts: {last}")

    def upload_complete(self, complete_url: str, session_token: str, what: str) -> None:
        self.request("POST", complete_url, f"upload completion of {what}", token=session_token).close()

    def upload_abort(self, abort_url: str, session_token: str, what: str) -> None:
        self.request("POST", abort_url, f"upload abort of {what}", token=session_token).close()

    def close(self) -> None:
        self.http.close()


def _is_upload_start(data: Any) -> bool:
    """``{"session_token", "complete_url", "abort_url": str, "file_urls": [{"path", "url": str}]}``"""
    if not isinstance(data, dict):
        return False
    if not all(isinstance(data.get(k), str) for k in ("session_token", "complete_url", "abort_url")):
        return False
    urls = data.get("file_urls", [])
    return isinstance(urls, list) and all(
        isinstance(u, dict) and isinstance(u.get("path"), str) and isinstance(u.get("url"), str) for u in urls)


def _short(e: BaseException) -> str:
    s = str(e)
    # urllib3 nests long reprs; the innermost reason is what a user can act on.
    for marker in ("Caused by ", "Failed to establish a new connection: "):
        if marker in s:
            s = s.split(marker, 1)[1]
    return s.strip("()'\" ")[:200]


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
