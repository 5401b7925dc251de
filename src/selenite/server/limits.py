"""Bounds on what one client can make the server hold: request bodies (here), connections and time
(``selenite.server.connections``).

:func:`guard_body` runs around every request. It refuses at once (413) a request whose
``Content-Length`` announces more than ``--max-json-bytes``: only the folder backend's upload
target takes bigger bodies, and it bounds them itself. It also ends the connection after any answer sent before the
request body was read (a 401 before an upload manifest, a 413 part-way through one): uvicorn
would otherwise keep the connection and read the rest of the body just to throw it away.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from selenite.server.context import Context
from selenite.server.http import error_response
from selenite.server.signing import UPLOAD_ROUTE

# An unread rest of a body up to this size is read and dropped by uvicorn, which keeps the
# connection (closing with unread bytes in the socket makes the client see a reset, not our answer).
DRAIN_LIMIT = 1 << 20


async def guard_body(app: ASGIApp, ctx: Context, scope: Scope, receive: Receive, send: Send) -> None:
    """Pass an HTTP request on to ``app``: 413 when Content-Length is above the JSON limit (the
    upload target excepted), and ``Connection: close`` on an answer that leaves a big body unread."""
    headers = dict(scope["headers"])
    chunked = b"chunked" in headers.get(b"transfer-encoding", b"").lower()
    declared = headers.get(b"content-length", b"")
    length = int(declared) if declared.isdigit() else 0  # h11 already refused a malformed one
    limit = ctx.settings.max_json_bytes
    if length > limit and scope["path"] != UPLOAD_ROUTE:
        response = error_response(413, f"request body is larger than the limit of {limit} bytes")
        response.headers["Connection"] = "close"
        await response(scope, receive, send)
        return
    if not chunked and length == 0:
        await app(scope, receive, send)
        return
    state = {"received": 0, "done": False}

    async def counting_receive() -> Message:
        message = await receive()
        if message["type"] == "http.request":
            state["received"] += len(message.get("body", b""))
            state["done"] = not message.get("more_body", False)
        return message

    async def closing_send(message: Message) -> None:
        starting = message["type"] == "http.response.start" and not state["done"]
        if starting and (chunked or length - int(state["received"]) > DRAIN_LIMIT):
            message = {**message, "headers": [*message.get("headers", []), (b"connection", b"close")]}
        await send(message)

    await app(scope, counting_receive, closing_send)
