"""Response shapes of the protocol (§0.2, §0.3) and small request helpers shared by the routes."""

from __future__ import annotations

import asyncio
import json
import traceback
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import Header, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response

from selenite.server.context import LARGE_BODY, LARGE_PARSE_WAIT, Context
from selenite.server.errors import HttpError
from selenite.server.jsonfiles import dumps

CORS = {"Access-Control-Allow-Origin": "*"}

# Route parameters documented once, reused by every route (they show up on /docs).
P_PROJECT = "Project name, percent-encoded (decoded once, as decodeURIComponent: '+' stays '+')."
P_ASSET = "Asset name, percent-encoded."
P_VERSION = "Version name, percent-encoded."
AUTH_DOC = "`Bearer <token>` from `selenite token create USER`."
SESSION_DOC = "`Bearer <session_token>` from the upload start response."


# These dependencies are `async def` on purpose: FastAPI runs a plain `def` dependency in a worker
# thread, and those hops cost more than the request itself for small files (the 2,000-file clone).


async def ctx_of(request: Request) -> Context:
    ctx: Context = request.app.state.ctx
    return ctx


async def authorization_header(authorization: str | None = Header(default=None, description=AUTH_DOC)) -> str | None:
    return authorization


async def session_header(authorization: str | None = Header(default=None, description=SESSION_DOC)) -> str | None:
    return authorization


def error_response(status: int, reason: str) -> Response:
    return Response(
        content=dumps({"status": "error", "reason": reason}),
        status_code=status,
        media_type="application/json",
        headers=CORS,
    )


def empty() -> Response:
    """Action endpoints: 200, empty body, no Content-Type, no CORS (§0.3)."""
    return Response(status_code=200)


def json_response(obj: Any, cors: bool = False) -> Response:
    return Response(content=dumps(obj), media_type="application/json", headers=CORS if cors else None)


async def read_body(request: Request, limit: int | None = None) -> bytearray:
    """The raw request body, read only up to ``limit`` bytes (default ``--max-json-bytes``): 413
    as soon as it is exceeded, or at once when Content-Length announces more, so memory stays
    bounded whatever a client sends. Routes call this only after every check that does not need
    the body (token, rights), so a caller who will be refused never makes the server hold one."""
    if limit is None:
        limit = int(request.app.state.ctx.settings.max_json_bytes)
    too_big = HttpError(413, f"request body is larger than the limit of {limit} bytes")
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise too_big
    raw = bytearray()
    async for chunk in request.stream():
        raw += chunk
        if len(raw) > limit:
            raise too_big
    return raw


def parse_json(raw: bytes | bytearray) -> Any:
    """The body as JSON, or 400 ``failed to parse JSON body; ...`` (an empty body fails)."""
    try:
        return json.loads(raw)
    except RecursionError:
        raise HttpError(400, "failed to parse JSON body; it is nested too deeply") from None
    except ValueError as e:
        raise HttpError(400, f"failed to parse JSON body; {e}") from None


# Parsing multiplies memory: a list of `{}` becomes ~30 times its bytes in Python objects, a list
# of 2-letter strings ~16 times. Two cheap bounds: refuse_dense (per route) turns away, unparsed,
# a body with more objects/arrays than the route's honest bodies could hold, which leaves ~16x as
# the worst case; and large_body_slot lets only LARGE_PARSES big bodies be parsed and handled at
# once, so that worst case does not add up over concurrent requests. A semaphore rather than a
# streaming parser: the stdlib has none, and no dependency is worth it for this.


def refuse_dense(raw: bytes | bytearray, bytes_per_container: int) -> None:
    """400 when ``raw`` holds more `{` and `[` than one per ``bytes_per_container`` bytes (two free)."""
    if raw.count(b"{") + raw.count(b"[") > 2 + len(raw) // bytes_per_container:
        why = f"request body holds more JSON objects and arrays than one per {bytes_per_container} bytes"
        raise HttpError(400, why)


@asynccontextmanager
async def large_body_slot(ctx: Context, size: int) -> AsyncIterator[None]:
    """Hold one of the LARGE_PARSES slots while a body over LARGE_BODY bytes is parsed and used
    (nothing to hold for a smaller one): 503 when none frees up within LARGE_PARSE_WAIT seconds.
    Whatever parsed value a failure's traceback still holds is dropped before the slot is freed."""
    if size <= LARGE_BODY:
        yield
        return
    try:
        await asyncio.wait_for(ctx.large_parses.acquire(), LARGE_PARSE_WAIT)
    except TimeoutError:
        raise HttpError(503, "too many large JSON bodies are being handled; try again later") from None
    try:
        yield
    except BaseException as e:
        traceback.clear_frames(e.__traceback__)
        raise
    finally:
        ctx.large_parses.release()


async def json_body(request: Request, limit: int | None = None) -> Any:
    """:func:`read_body`, then :func:`parse_json` (a big body in a worker thread, within its slot:
    a 16 MiB parse would otherwise stall every other request)."""
    ctx: Context = request.app.state.ctx
    raw = await read_body(request, limit)
    if len(raw) <= LARGE_BODY:
        return parse_json(raw)
    async with large_body_slot(ctx, len(raw)):
        return await run_in_threadpool(parse_json, raw)


def body_doc(description: str, example: Any) -> dict[str, Any]:
    """OpenAPI ``requestBody`` for routes that read their JSON body themselves."""
    return {
        "requestBody": {
            "required": True,
            "description": description,
            "content": {"application/json": {"schema": {"type": "object"}, "example": example}},
        }
    }
