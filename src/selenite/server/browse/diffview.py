"""The browser's diff view: what changed between two versions of an asset (``selenite.changes``
over their manifests), one page of changes at a time, with a form to pick the two versions."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from selenite.changes import Totals, compare
from selenite.server.browse import catalog
from selenite.server.browse.pages import PageNumber, index_cache, page_number, pager_of, shown
from selenite.server.browse.render import compare_url, page, paging, url
from selenite.server.errors import HttpError
from selenite.server.names import check_name, names
from selenite.server.routes.params import Ctx

router = APIRouter(include_in_schema=False)


@dataclass(frozen=True)
class Row:
    """One changed path: ``kind`` is added, deleted, modified or renamed; ``old_path`` only for a
    rename; a size is None on the side where the path does not exist."""

    kind: str
    path: str
    old_path: str | None
    old_size: int | None
    new_size: int | None


def _rows(old: catalog.VersionIndex, new: catalog.VersionIndex) -> tuple[list[Row], Totals]:
    changes = compare(old.listing(), new.listing())
    rows = [Row("added", a.path, None, None, a.size) for a in changes.added]
    rows += [Row("deleted", d.path, None, d.size, None) for d in changes.deleted]
    rows += [Row("modified", m.path, None, m.old_size, m.new_size) for m in changes.modified]
    rows += [Row("renamed", r.new_path, r.old_path, r.size, r.size) for r in changes.renamed]
    rows.sort(key=lambda r: (r.path, r.kind))
    return rows, changes.totals


@router.get("/compare/{project}/{asset}")
def compare_page(
    request: Request, ctx: Ctx, project: str, asset: str,
    old: str | None = Query(default=None), new: str | None = Query(default=None),
    page_: str | None = PageNumber,
) -> HTMLResponse:
    def build() -> HTMLResponse:
        p, a = names(project, asset)
        found = [v.name for v in catalog.versions(ctx.storage, p, a)]
        if not found:
            raise HttpError(404, f"no finished versions in '{p}/{a}'")
        # Without a choice: the latest change (the second newest version to the newest).
        old_name = check_name("version", old) if old else found[min(1, len(found) - 1)]
        new_name = check_name("version", new) if new else found[0]
        cache = index_cache(request)
        for name in (old_name, new_name):
            catalog.version(ctx.storage, p, a, name)  # finished versions only (404 otherwise)
        rows, totals = _rows(cache.get(ctx.storage, p, a, old_name), cache.get(ctx.storage, p, a, new_name))
        paged = paging(len(rows), page_number(page_))
        return page(
            "diff.html", title=f"{p}/{a}: {old_name} → {new_name}",
            crumbs=[(p, url(p)), (a, url(p, a)), (f"{old_name} → {new_name}", None)],
            project=p, asset=a, old=old_name, new=new_name, all_versions=found, rows=rows[paged.start:paged.end],
            totals=totals, pager=pager_of(paged, lambda n: compare_url(p, a, old=old_name, new=new_name, page=n)),
        )
    return shown(build)
