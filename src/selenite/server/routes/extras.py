"""Routes beyond the gypsum protocol: the front page and the server's own counters."""

from __future__ import annotations

from fastapi import APIRouter, Depends
from fastapi.responses import RedirectResponse, Response

from selenite.server.context import Context
from selenite.server.http import CORS, ctx_of, json_response

router = APIRouter(tags=["selenite"])


@router.get("/", summary="Redirect to this API's documentation", include_in_schema=True)
def front_page() -> Response:
    """301 to `/docs` (the worker redirects to its own documentation site)."""
    return RedirectResponse("/docs", status_code=301, headers=CORS)


@router.get("/_selenite/stats", summary="Request and byte counters since the server started")
def stats(ctx: Context = Depends(ctx_of)) -> Response:
    """`{"requests", "file_get", "file_get_bytes", "file_head", "list", "upload_put", "upload_put_bytes"}`."""
    return json_response(ctx.stats.snapshot())
