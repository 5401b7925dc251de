"""Connection limits: how long a client may take, and how many connections the server keeps.

uvicorn closes a keep-alive connection that stays idle after an answer (``timeout_keep_alive``)
and caps a request head at h11's 16 KiB, but it waits forever for the first request on a new
connection, for the rest of a half-sent head, and for a request body that stopped coming; and its
``limit_concurrency`` only answers 503 once a request head has arrived, so connections that never
send one still pile up until the process runs out of file descriptors. :class:`GuardedH11Protocol`
adds what is missing:

* a request head (request line and headers) must arrive in full within ``header_timeout`` seconds
  of the connection opening or of the previous answer, however slowly its bytes trickle in;
* while the server reads a request body, ``idle_timeout`` seconds without a byte closes the
  connection (time during which the server itself paused reading does not count);
* beyond ``max_connections`` open connections, a new one is answered 503 and closed at once
  (:func:`fd_budget` keeps that below the open-file limit);
* every request's app is offered zero-copy file bodies (``zerocopy.py``).
"""

from __future__ import annotations

import asyncio
import resource
from typing import Any

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

from selenite.server import zerocopy

_BUSY_BODY = b'{"status": "error", "reason": "too many connections; try again later"}'
_BUSY = (
    b"HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/json\r\nconnection: close\r\n"
    b"content-length: %d\r\n\r\n%s" % (len(_BUSY_BODY), _BUSY_BODY)
)


def fd_budget() -> tuple[int, int]:
    """``(max_connections, backlog)`` defaults that fit the process's open-file limit.

    asyncio accepts up to ``backlog`` pending connections in one go before any of them reaches
    :meth:`GuardedH11Protocol.connection_made` (where the extras are refused), so the descriptors
    in use can briefly reach the cap plus about two bursts; the server's own files need ~100 more.
    """
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY:
        soft = 1 << 20
    backlog = max(16, min(2048, (soft - 100) // 5))
    return max(8, min(1000, soft - 100 - 2 * backlog)), backlog


class GuardedH11Protocol(H11Protocol):
    """uvicorn's h11 protocol with a head deadline, a body idle timeout and a connection cap.

    The limits are class attributes: :func:`protocol_class` makes a subclass holding them."""

    header_timeout: float = 10.0
    idle_timeout: float = 60.0
    max_connections: int = 1000

    _timer: asyncio.TimerHandle | None = None
    _idle_since = 0.0  # when the connection last started waiting for a request head
    _last_data = 0.0  # when the client last sent a byte
    _was_idle = False

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        if len(self.connections) > self.max_connections:
            transport.write(_BUSY)
            transport.close()
            return
        self._last_data = self.loop.time()
        self._note_state()
        self._arm(self.header_timeout)

    def data_received(self, data: bytes) -> None:
        self._last_data = self.loop.time()
        super().data_received(data)
        self._note_state()

    def handle_events(self) -> None:
        cycle = self.cycle
        super().handle_events()
        if self.cycle is not None and self.cycle is not cycle:  # a request began: its task not yet run
            zerocopy.install(self.cycle, self.loop)

    def on_response_complete(self) -> None:
        super().on_response_complete()
        self._note_state()

    def connection_lost(self, exc: Exception | None) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        super().connection_lost(exc)

    def _note_state(self) -> None:
        idle = self.conn.their_state is h11.IDLE
        if idle and not self._was_idle:
            self._idle_since = self.loop.time()
        self._was_idle = idle

    def _arm(self, delay: float) -> None:
        if self._timer is not None:
            self._timer.cancel()
        self._timer = self.loop.call_later(max(delay, 0.05), self._check)

    def _check(self) -> None:
        self._timer = None
        if self.transport.is_closing():
            return
        now = self.loop.time()
        state = self.conn.their_state
        if state is h11.IDLE:  # waiting for (the rest of) a request head
            due = self._idle_since + self.header_timeout
        elif state is h11.SEND_BODY and not self.flow.read_paused:  # waiting for body bytes
            due = self._last_data + self.idle_timeout
        else:  # the app is working, or it paused reading itself: not the client's doing
            self._last_data = now  # the client's idle time starts again when the server reads
            self._arm(self.idle_timeout)
            return
        if now >= due:
            self.transport.close()
        else:
            self._arm(due - now)


def protocol_class(header_timeout: float, idle_timeout: float, max_connections: int) -> type[GuardedH11Protocol]:
    """A :class:`GuardedH11Protocol` with these limits (uvicorn's ``http=`` takes a class)."""
    attrs: dict[str, Any] = {
        "header_timeout": header_timeout,
        "idle_timeout": idle_timeout,
        "max_connections": max_connections,
    }
    return type("SeleniteH11Protocol", (GuardedH11Protocol,), attrs)
