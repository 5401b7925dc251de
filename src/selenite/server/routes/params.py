"""Route parameters decoded once: the project/asset/version names of a path and who is asking.

Routes declare them as ``Annotated`` types, in the order their checks must run (a route that
answers 403 to a stranger before it looks at the names lists the caller first).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Path

from selenite.server import auth
from selenite.server.context import Context
from selenite.server.http import P_ASSET, P_PROJECT, P_VERSION, authorization_header, ctx_of
from selenite.server.names import names

# The name dependencies are `async def`: no I/O, so no worker-thread hop (see http.py).


async def _project(project: str = Path(description=P_PROJECT)) -> str:
    (p,) = names(project)
    return p


async def _project_asset(
    project: str = Path(description=P_PROJECT), asset: str = Path(description=P_ASSET)
) -> tuple[str, str]:
    p, a = names(project, asset)
    return p, a


async def _project_asset_version(
    project: str = Path(description=P_PROJECT),
    asset: str = Path(description=P_ASSET),
    version: str = Path(description=P_VERSION),
) -> tuple[str, str, str]:
    p, a, v = names(project, asset, version)
    return p, a, v


# The identity dependencies read the token store: plain `def`, so FastAPI runs them in a thread.


def _caller(
    ctx: Context = Depends(ctx_of), authorization: str | None = Depends(authorization_header)
) -> str:
    return auth.identify(ctx, authorization)


def _admin(ctx: Context = Depends(ctx_of), authorization: str | None = Depends(authorization_header)) -> str:
    return auth.require_admin(ctx, authorization)


Project = Annotated[str, Depends(_project)]
ProjectAsset = Annotated[tuple[str, str], Depends(_project_asset)]
ProjectAssetVersion = Annotated[tuple[str, str, str], Depends(_project_asset_version)]
Caller = Annotated[str, Depends(_caller)]
"""The user the request's bearer token belongs to (401 without a known token)."""
Admin = Annotated[str, Depends(_admin)]
"""Like :data:`Caller`, and 403 unless that user is an administrator."""
Ctx = Annotated[Context, Depends(ctx_of)]
