"""The registry's read-only web browser (``/``): projects, assets, versions, files and the changes
between two versions, as server-rendered HTML (``pages.py``, ``diffview.py``; templates in ``templates/``)."""

from __future__ import annotations

from fastapi import FastAPI

from selenite.server.browse import diffview, pages
from selenite.server.browse.catalog import IndexCache


def install(app: FastAPI) -> None:
    """Serve the browser's pages on ``app`` with a cache of parsed manifests of its own."""
    app.state.browse_cache = IndexCache()
    app.include_router(pages.router)
    app.include_router(diffview.router)
