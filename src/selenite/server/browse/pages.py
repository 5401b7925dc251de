"""The browser's routes: read-only HTML pages over what the registry stores, outside the gypsum
protocol's paths (``/``, ``/browse/...``, ``/compare/...``) and out of the OpenAPI schema.

Names arrive percent-encoded in the raw path (see ``server/app.py``) and are decoded and checked
by the same rules as the API's (``server/names.py``); folders and files of a version come in the
query (``?dir=``, ``?file=``). A failure is a readable HTML page with the API's status code.
Handlers are plain ``def``: storage reads block, so FastAPI runs them in its worker threads.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable
from importlib.resources import files
from typing import Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response

from selenite.server.browse import catalog
from selenite.server.browse.render import PAGE_SIZE, Paging, error_page, page, paging, url
from selenite.server.errors import BadStorageKey, HttpError
from selenite.server.names import names
from selenite.server.routes.params import Ctx

router = APIRouter(include_in_schema=False)
PageNumber = Query(default=None, alias="page")
Crumbs = list[tuple[str, str | None]]  # the path shown atop a page: (label, link; None for the page itself)
VERSIONS_PAGE = 50  # versions per page: each one's size is read from its manifest
STYLESHEET = "/_selenite/browse.css"
_CSS = (files("selenite.server.browse") / "static" / "browse.css").read_bytes()


def shown(build: Callable[[], HTMLResponse]) -> HTMLResponse:
    """The page, or a readable error page carrying the API's status (400 bad name, 404 absent)."""
    try:
        return build()
    except HttpError as e:
        return error_page(e.status, e.reason)
    except BadStorageKey as e:
        return error_page(400, f"invalid name: {e}")


def page_number(raw: str | None) -> int:
    """A page number from the query; anything else is page 1 (a mangled link still shows a page)."""
    return int(raw) if raw is not None and raw.isascii() and raw.isdigit() and len(raw) < 10 else 1


def pager_of(paged: Paging, link: Callable[[int], str]) -> dict[str, Any]:
    return {
        "number": paged.number,
        "count": paged.count,
        "prev": link(paged.number - 1) if paged.number > 1 else None,
        "next": link(paged.number + 1) if paged.number < paged.count else None,
    }


def index_cache(request: Request) -> catalog.IndexCache:
    cache: catalog.IndexCache = request.app.state.browse_cache
    return cache


@router.get("/_selenite/browse.css")
async def stylesheet() -> Response:
    return Response(_CSS, media_type="text/css", headers={"Cache-Control": "max-age=3600"})


@router.get("/")
def projects_page(ctx: Ctx, page_: str | None = PageNumber) -> HTMLResponse:
    def build() -> HTMLResponse:
        found = catalog.projects(ctx.storage)
        paged = paging(len(found), page_number(page_))
        return page("projects.html", title="Projects", crumbs=[], projects=found[paged.start:paged.end],
                    total=len(found), pager=pager_of(paged, lambda n: f"/?page={n}"))
    return shown(build)


@router.get("/browse/{project}")
def assets_page(ctx: Ctx, project: str) -> HTMLResponse:
    def build() -> HTMLResponse:
        (p,) = names(project)
        return page("assets.html", title=p, crumbs=[(p, None)], project=p, assets=catalog.assets(ctx.storage, p))
    return shown(build)


@router.get("/browse/{project}/{asset}")
def versions_page(request: Request, ctx: Ctx, project: str, asset: str, page_: str | None = PageNumber) -> HTMLResponse:
    def build() -> HTMLResponse:
        p, a = names(project, asset)
        found = catalog.versions(ctx.storage, p, a)
        paged = paging(len(found), page_number(page_), VERSIONS_PAGE)
        listed = found[paged.start:paged.end]
        sizes = {v.name: index_cache(request).totals(ctx.storage, p, a, v.name) for v in listed}
        return page("versions.html", title=f"{p}/{a}", crumbs=[(p, url(p)), (a, None)], project=p, asset=a,
                    versions=listed, sizes=sizes, all_versions=[v.name for v in found],
                    pager=pager_of(paged, lambda n: url(p, a, page=n)))
    return shown(build)


@router.get("/browse/{project}/{asset}/{version}")
def version_page(
    request: Request, ctx: Ctx, project: str, asset: str, version: str,
    dir_: str | None = Query(default=None, alias="dir"), file: str | None = None, page_: str | None = PageNumber,
) -> HTMLResponse:
    def build() -> HTMLResponse:
        p, a, v = names(project, asset, version)
        found = catalog.version(ctx.storage, p, a, v)
        index = index_cache(request).get(ctx.storage, p, a, v)
        crumbs: Crumbs = [(p, url(p)), (a, url(p, a)), (v, url(p, a, v))]
        common: dict[str, Any] = {"project": p, "asset": a, "version": found, "index": index}
        if file is not None:
            entry = _file(index, file)
            for depth, part in enumerate(file.split("/")[:-1], start=1):
                crumbs.append((part, url(p, a, v, dir="/".join(file.split("/")[:depth]))))
            crumbs.append((file.rsplit("/", 1)[-1], None))
            return page("file.html", title=file, crumbs=crumbs, entry=entry, **common)
        folder_path = (dir_ or "").strip("/")
        folder = index.folders.get(folder_path)
        if folder is None:
            raise HttpError(404, f"no folder '{folder_path}' in version '{p}/{a}/{v}'")
        if folder_path:
            parts = folder_path.split("/")
            crumbs += [(part, url(p, a, v, dir="/".join(parts[:i + 1]))) for i, part in enumerate(parts[:-1])]
            crumbs.append((parts[-1], None))
        rows = len(folder.folders) + len(folder.files)
        paged = paging(rows, page_number(page_))
        subfolders = folder.folders[paged.start:paged.end]
        first_file = max(0, paged.start - len(folder.folders))
        shown_files = [index.files[i] for i in folder.files[first_file:first_file + PAGE_SIZE - len(subfolders)]]
        prefix = folder_path + "/" if folder_path else ""
        return page("files.html", title=f"{p}/{a}/{v}/{folder_path}", crumbs=crumbs, folder=folder,
                    folder_path=folder_path, prefix=prefix, subfolders=subfolders, entries=shown_files,
                    pager=pager_of(paged, lambda n: url(p, a, v, dir=folder_path, page=n)), **common)
    return shown(build)


def _file(index: catalog.VersionIndex, path: str) -> catalog.FileEntry:
    at = bisect.bisect_left(index.paths, path)
    if at == len(index.paths) or index.paths[at] != path:
        raise HttpError(404, f"no file '{path}' in this version")
    return index.files[at]
