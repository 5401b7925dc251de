"""HTML out of the package's Jinja2 templates: autoescaping on for every template, URLs built from
names one quoted path segment at a time, and the small formatting filters the pages share."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlencode

from fastapi.responses import HTMLResponse
from jinja2 import Environment, PackageLoader, StrictUndefined

from selenite import __version__

PAGE_SIZE = 200  # rows of one page: files of a folder, versions, projects, changes of a diff


def segment(name: str) -> str:
    """One path segment of a URL: every reserved character (and '/') percent-encoded."""
    return quote(name, safe="")


def url(*names: str, **query: str | int | None) -> str:
    """``/browse/n1/n2...?k=v`` with each name one quoted segment; empty query values left out."""
    return route("browse", *names, **query)


def compare_url(project: str, asset: str, **query: str | int | None) -> str:
    return route("compare", project, asset, **query)


def route(base: str, *names: str, **query: str | int | None) -> str:
    path = f"/{base}" + "".join("/" + segment(n) for n in names)
    pairs = {k: str(v) for k, v in query.items() if v is not None and v != ""}
    return path + ("?" + urlencode(pairs, quote_via=quote) if pairs else "")


def file_url(key: str) -> str:
    """The API's download route for a bucket key (its '/' encoded too, as the route expects)."""
    return "/file/" + segment(key)


def human_bytes(n: int) -> str:
    size = float(n)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if size < 1024 or unit == "TiB":
            return f"{int(size)} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    raise AssertionError("unreachable")


def when(seconds: float) -> str:
    return datetime.datetime.fromtimestamp(seconds, datetime.UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def _environment() -> Environment:
    env = Environment(
        loader=PackageLoader("selenite.server.browse", "templates"),
        autoescape=True,  # every template, whatever its name: names can hold any text, '<script>' too
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["bytes"] = human_bytes
    env.filters["when"] = when
    env.globals.update(url=url, compare_url=compare_url, file_url=file_url, selenite_version=__version__)
    return env


ENV = _environment()


# The pages need no script at all: forbid every one, so a name that ever slipped past escaping
# still could not run (defence in depth); only this server's stylesheet and forms.
HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
                               "frame-ancestors 'none'; base-uri 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}


def page(template: str, status: int = 200, **context: Any) -> HTMLResponse:
    return HTMLResponse(ENV.get_template(template).render(**context), status_code=status, headers=HEADERS)


def error_page(status: int, message: str) -> HTMLResponse:
    return page("error.html", status=status, title=f"{status}", message=message, crumbs=[])


@dataclass(frozen=True)
class Paging:
    """Page ``number`` of ``count`` (1-based), showing rows ``start`` to ``end`` (exclusive)."""

    number: int
    count: int
    start: int
    end: int


def paging(total: int, number: int, size: int = PAGE_SIZE) -> Paging:
    """Page ``number`` of ``total`` rows, clamped into range (a stale link still shows a page)."""
    count = max(1, -(-total // size))
    number = min(max(number, 1), count)
    return Paging(number, count, (number - 1) * size, min(number * size, total))
