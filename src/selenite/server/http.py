"""Response shapes of the protocol (§0.2, §0.3) and small request helpers shared by the routes."""

from __future__ import annotations

import json
from typing import Any

from fastapi import Header, Request
from fastapi.responses import Response

from selenite.server.bucket import dumps
from selenite.server.context import Context

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


async def json_body(request: Request, limit: int | None = None) -> Any:
    """The request body as JSON, or 400 ``failed to parse JSON body; ...`` (an empty body fails).

    The body is read only up to ``limit`` bytes (default ``--max-json-bytes``): 413 as soon as it
    is exceeded, or at once when Content-Length announces more, so memory stays bounded whatever
    a client sends. Routes that need a user call this only after checking the token.
    """
    from selenite.server.errors import HttpError

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
    try:
        return json.loads(raw)
    except RecursionError:
        raise HttpError(400, "failed to parse JSON body; it is nested too deeply") from None
    except ValueError as e:
        raise HttpError(400, f"failed to parse JSON body; {e}") from None


def body_doc(description: str, example: Any) -> dict[str, Any]:
    """OpenAPI ``requestBody`` for routes that read their JSON body themselves."""
    return {
        "requestBody": {
            "required": True,
            "description": description,
            "content": {"application/json": {"schema": {"type": "object"}, "example": example}},
        }
    }
