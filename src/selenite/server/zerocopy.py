"""Zero-copy file bodies: the ASGI ``http.response.zerocopysend`` extension, which uvicorn's h11
protocol lacks; :class:`~selenite.server.connections.GuardedH11Protocol` adds it to every request.

A large download through a plain streaming response copies every byte twice in the server (disk
cache into Python, Python into the socket) and hops to a worker thread per chunk: on a machine
shared with its clients, most of the server's CPU. Through ``sendfile(2)`` (asyncio's
``loop.sendfile``) the kernel moves the file's cached pages to the socket itself. h11 still keeps
the books: the body goes through ``send_with_data_passthrough`` as a placeholder of the right
length (h11 only takes its ``len()``, as its docs on sendfile describe), so a response can never
send more or fewer bytes than its ``Content-Length``.

``sendfile`` reads the file in the event loop's thread: a page the disk cache lacks holds the loop
while it is read, as the kernel's readahead keeps rare for a file read from start to end. The
extension's ``offset`` and ``count`` are always given here (the ASGI spec lets them be left out).
"""

from __future__ import annotations

import asyncio
from typing import Any

import h11
from uvicorn.protocols.http.h11_impl import RequestResponseCycle

EXTENSION = "http.response.zerocopysend"


class _FileSpan:
    """The placeholder h11 counts in place of the bytes ``sendfile`` sends."""

    def __init__(self, count: int) -> None:
        self.count = count

    def __len__(self) -> int:
        return self.count


def install(cycle: RequestResponseCycle, loop: asyncio.AbstractEventLoop) -> None:
    """Offer the extension to the app of this request (its task has not started yet)."""
    if cycle.scope.get("type") != "http":
        return
    cycle.scope.setdefault("extensions", {})[EXTENSION] = {}
    plain = cycle.send

    async def send(message: Any) -> None:
        if message["type"] == EXTENSION:
            await _send_file(cycle, loop, message)
            message = {"type": "http.response.body", "body": b"", "more_body": message.get("more_body", False)}
            if not message["more_body"] and (cycle.disconnected or cycle.transport.is_closing()):
                return
        await plain(message)

    cycle.send = send  # type: ignore[method-assign]  # run_asgi looks it up when the task starts


async def _send_file(cycle: RequestResponseCycle, loop: asyncio.AbstractEventLoop, message: Any) -> None:
    if cycle.flow.write_paused and not cycle.disconnected:
        await cycle.flow.drain()
    if not cycle.response_started or cycle.response_complete:
        raise RuntimeError(f"Unexpected ASGI message '{EXTENSION}' outside a response body.")
    if cycle.disconnected or cycle.transport.is_closing():
        return
    file, offset, count = message["file"], message["offset"], message["count"]  # the app gives all three
    span = _FileSpan(count)
    # h11 only takes len() of the data (its documented sendfile pass-through) and hands it back.
    parts: list[object] = list(cycle.conn.send_with_data_passthrough(h11.Data(data=span)) or [])  # type: ignore[arg-type]
    for part in parts:
        if isinstance(part, bytes | bytearray | memoryview):
            cycle.transport.write(part)
        elif cycle.scope["method"] != "HEAD" and count:
            try:
                sent = await loop.sendfile(cycle.transport, file, offset, count)
            except (ConnectionError, RuntimeError):  # the client left (RuntimeError: transport closing)
                sent = -1
            if sent != count:  # a broken connection, or a file shorter than announced: the answer is cut
                cycle.transport.close()
