"""The HTTP session every registry call goes through, and the one place requests' exceptions become
``RegistryError``s (as httpx maps httpcore's in one context manager).

One session per command: a connection pool sized for parallel transfers, timeouts on every call,
and retries with backoff on connection errors and 5xx answers for idempotent methods only (GET,
HEAD; a presigned PUT is retried by the client by re-opening the file, since a consumed stream
cannot be re-sent).
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Iterator
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from selenite import __version__
from selenite.errors import RegistryError, Unreachable

if TYPE_CHECKING:
    import requests
    from requests.sessions import _Cert, _Settings, _TextMapping, _Verify

# requests (with urllib3) is this package's largest import: it is imported when the first session
# is made, so a command that sends no request (a re-clone of a cached version) never pays for it.

CONNECT_TIMEOUT = 10.0
READ_TIMEOUT = 120.0
TIMEOUTS = (CONNECT_TIMEOUT, READ_TIMEOUT)


@functools.cache
def _session_class() -> type[requests.Session]:
    import requests  # noqa: PLC0415 -- see above

    class _Session(requests.Session):
        """A ``requests.Session`` that reads the environment's proxy and CA-bundle settings once per
        host instead of on every request. requests walks the whole environment twice per request for
        them, about a third of the client's time per file when cloning thousands of small files; the
        environment does not change while a command runs."""

        def __init__(self) -> None:
            super().__init__()
            self._env_settings: dict[tuple[str, str, bool | None], _Settings] = {}

        def merge_environment_settings(
            self, url: str | bytes | None, proxies: _TextMapping | None, stream: bool | None,
            verify: _Verify | None, cert: _Cert | None,
        ) -> _Settings:
            if proxies or verify is not None or cert is not None or url is None:  # per-call settings: nothing to reuse
                return super().merge_environment_settings(url, proxies, stream, verify, cert)
            parts = urlsplit(url.decode() if isinstance(url, bytes) else url)
            key = (parts.scheme, parts.netloc, stream)
            hit = self._env_settings.get(key)
            if hit is None:
                hit = super().merge_environment_settings(url, proxies, stream, verify, cert)
                self._env_settings[key] = hit
            # A copy: requests may change the answer it is given.
            return {"verify": hit["verify"], "proxies": dict(hit["proxies"]), "stream": hit["stream"],
                    "cert": hit["cert"]}

    return _Session


def make_session(pool: int = 16, retries: int = 4) -> requests.Session:
    """A session with a pool for ``pool`` parallel transfers and retries on transient failures."""
    from requests.adapters import HTTPAdapter  # noqa: PLC0415 -- see the imports
    from urllib3.util.retry import Retry  # noqa: PLC0415

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
    s = _session_class()()
    s.mount("http://", adapter)
    s.mount("https://", adapter)
    s.headers["User-Agent"] = f"selenite/{__version__}"
    return s


@contextlib.contextmanager
def translating(what: str, registry: str | None = None) -> Iterator[None]:
    """Around every I/O call of the client: requests' exceptions become one-line ``RegistryError``s.

    With ``registry`` (its URL), a request is being sent: a connection failure or a timeout is an
    ``Unreachable`` (which an upload retries), anything else requests raises a ``RegistryError``;
    a local ``OSError`` (reading the file being uploaded) is not the registry's and passes.
    Without ``registry``, an answer's body is being read, and any failure means ``what`` broke off."""
    try:
        yield
    except OSError as e:  # requests' exceptions are OSErrors too
        if registry is None:
            raise RegistryError(f"{what} broke off: {_short(e)}") from None
        import requests  # noqa: PLC0415 -- loaded already when a request was sent

        if not isinstance(e, requests.RequestException):
            raise
        raise _sending_failed(e, what, registry) from None


def _sending_failed(e: requests.RequestException, what: str, registry: str) -> RegistryError:
    import requests  # noqa: PLC0415 -- loaded already (``e`` is one of its exceptions)

    if isinstance(e, requests.exceptions.RetryError):
        return RegistryError(f"registry failed {what}: gave up after retries ({e})")
    if isinstance(e, requests.ConnectionError):  # before Timeout: a ConnectTimeout is both
        return Unreachable(f"cannot reach the registry at {registry} ({what}): {_short(e)}", _short(e))
    if isinstance(e, requests.Timeout):
        return Unreachable(f"the registry at {registry} timed out ({what})", _short(e))
    return RegistryError(f"registry request failed ({what}): {_short(e)}")


def _short(e: BaseException) -> str:
    s = str(e)
    # urllib3 nests long reprs; the innermost reason is what a user can act on.
    for marker in ("Caused by ", "Failed to establish a new connection: "):
        if marker in s:
            s = s.split(marker, 1)[1]
    return s.strip("()'\" ")[:200]
