"""The registry as a FastAPI app speaking the gypsum REST protocol (docs/develop/protocol.md).

Routing works on the RAW request path, as the reference worker's router does: a key in
``/file/{key}`` arrives with its '/' encoded as ``%2F`` and must stay one path segment, so the
ASGI wrapper below routes on ``raw_path`` and each handler decodes its parameters itself
(``decodeURIComponent`` semantics, '+' kept). The same wrapper answers OPTIONS (CORS, §0.4),
turns '//' into a 301, tolerates a trailing '/', and counts requests.
"""

from __future__ import annotations

import logging
import re
import uuid

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Receive, Scope, Send

from selenite import __version__
from selenite.server import browse
from selenite.server.context import Context, ServerSettings
from selenite.server.errors import BadStorageKey, HttpError
from selenite.server.http import error_response
from selenite.server.limits import guard_body
from selenite.server.routes import admin, extras, read, upload
from selenite.server.storage.base import Storage

log = logging.getLogger("selenite.server")

_PRESIGNED = "/upload/presigned-file/"  # its slug may hold '/' and '//': never rewrite those paths
_RUNS = re.compile(r"//+")


class RawPathRouting:
    """ASGI wrapper: OPTIONS, '//' redirects, raw-path routing and body limits (limits.py), before
    FastAPI sees a request."""

    def __init__(self, app: ASGIApp, ctx: Context) -> None:
        self.app = app
        self.ctx = ctx

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        self.ctx.stats.add("requests")
        raw = scope.get("raw_path") or scope["path"].encode("utf-8")
        path = raw.decode("latin-1")
        if scope["method"] == "OPTIONS":
            await _options(scope)(scope, receive, send)
            return
        if not path.startswith(_PRESIGNED):
            if "//" in path:
                query = scope.get("query_string", b"").decode("latin-1")
                host = dict(scope["headers"]).get(b"host", b"").decode("latin-1")
                base = self.ctx.settings.public_url or f"{scope.get('scheme', 'http')}://{host}"
                target = f"{base}{_RUNS.sub('/', path)}" + (f"?{query}" if query else "")
                await Response(status_code=301, headers={"Location": target, "Access-Control-Allow-Origin": "*"})(
                    scope, receive, send
                )
                return
            if len(path) > 1 and path.endswith("/"):
                path = path.rstrip("/") or "/"
        await guard_body(self.app, self.ctx, {**scope, "path": path, "raw_path": path.encode("latin-1")}, receive, send)


def _options(scope: Scope) -> Response:
    headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
    wanted = ("origin", "access-control-request-method", "access-control-request-headers")
    if all(h in headers for h in wanted):
        return Response(
            status_code=200,
            headers={
                "Access-Control-Allow-Origin": "*",
                "Access-Control-Allow-Methods": "GET,HEAD,POST,OPTIONS",
                "Access-Control-Max-Age": "86400",
                "Access-Control-Allow-Headers": headers["access-control-request-headers"],
            },
        )
    return Response(status_code=200, headers={"Allow": "GET, HEAD, POST, OPTIONS"})


def _install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(HttpError)
    async def _http_error(request: Request, exc: HttpError) -> Response:
        return error_response(exc.status, exc.reason)

    @app.exception_handler(BadStorageKey)
    async def _bad_key(request: Request, exc: BadStorageKey) -> Response:
        return error_response(400, f"invalid key: {exc}")

    @app.exception_handler(StarletteHTTPException)
    async def _starlette(request: Request, exc: StarletteHTTPException) -> Response:
        if exc.status_code in (404, 405):  # the worker: wrong method or path → catch-all 404
            return error_response(404, "no such endpoint")
        return error_response(exc.status_code if exc.status_code >= 400 else 500, str(exc.detail))

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> Response:
        problems = "; ".join(f"{'.'.join(map(str, e.get('loc', ())))}: {e.get('msg')}" for e in exc.errors())
        return error_response(400, f"invalid request: {problems}")

    @app.exception_handler(Exception)
    async def _crash(request: Request, exc: Exception) -> Response:
        # The detail (paths, backend messages) goes to the server's log only; the client gets an id
        # to quote, which the log line carries too.
        request_id = uuid.uuid4().hex[:16]
        log.error("request %s: unhandled error on %s %s", request_id, request.method, request.url.path, exc_info=exc)
        return error_response(500, f"internal server error (request id {request_id}; details are in the server's log)")


def create_app(storage: Storage, settings: ServerSettings | None = None) -> FastAPI:
    """The ASGI application (``app.state.ctx`` holds the storage, settings and counters)."""
    ctx = Context(storage=storage, settings=settings or ServerSettings())
    app = FastAPI(
        title="selenite registry",
        version=__version__,
        description=(
            "A gypsum-compatible dataset registry (projects / assets / immutable versions). "
            "Reads are public; writes need `Authorization: Bearer <token>` "
            "(tokens from `selenite token create USER`). Errors are "
            '`{"status": "error", "reason": "..."}` with a 4xx/5xx status.'
        ),
        redirect_slashes=False,
    )
    app.state.ctx = ctx
    for module in (read, upload, admin, extras):
        app.include_router(module.router)
    browse.install(app)
    _install_error_handlers(app)
    app.add_middleware(RawPathRouting, ctx=ctx)
    return app
