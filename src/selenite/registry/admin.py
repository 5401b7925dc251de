"""The owner and administrator calls of the gypsum protocol (§1.2-§1.4, §1.9, §1.13-§1.14), plus
selenite's ``/_selenite/dependents``: each answer checked before anyone reads it.

``Target`` is what these verbs name on the command line: ``PROJECT[/ASSET[@VERSION]]``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from selenite.errors import FatalError, NotFound, RegistryError
from selenite.names import name_problem
from selenite.registry import answers
from selenite.registry.client import RegistryClient, quote_key


@dataclass(frozen=True)
class Target:
    """A project, an asset of it, or one version of that asset."""

    project: str
    asset: str | None = None
    version: str | None = None

    def __str__(self) -> str:
        s = self.project + (f"/{self.asset}" if self.asset else "")
        return s + (f"@{self.version}" if self.version else "")

    def path(self) -> str:
        """The target as route path segments: ``/p[/a[/v]]``, each percent-encoded."""
        parts = [p for p in (self.project, self.asset, self.version) if p is not None]
        return "".join("/" + quote_key(p) for p in parts)


def parse_target(text: str, *, need_version: bool = False) -> Target:
    """``PROJECT``, ``PROJECT/ASSET`` or ``PROJECT/ASSET@VERSION`` (only the last when
    ``need_version``); every name checked against the protocol's rules."""
    spec, at, version = text.partition("@")
    project, slash, asset = spec.partition("/")
    shape = "PROJECT/ASSET@VERSION" if need_version else "PROJECT, PROJECT/ASSET or PROJECT/ASSET@VERSION"
    if (need_version and not (slash and at)) or (at and not slash) or (slash and not asset) or (at and not version):
        raise FatalError(f"{text!r}: expected {shape}")
    for kind, name in (("project", project), ("asset", asset if slash else None), ("version", version if at else None)):
        why = name_problem(kind, name) if name is not None else None
        if why:
            raise FatalError(f"{text!r}: {why}")
    return Target(project, asset if slash else None, version if at else None)


def approve(client: RegistryClient, t: Target) -> None:
    """``POST /probation/approve/p/a/v`` (owner or admin)."""
    client.request("POST", f"/probation/approve{t.path()}", f"approval of {t}", token=client.token).close()


def reject(client: RegistryClient, t: Target) -> None:
    """``POST /probation/reject/p/a/v`` (owner, admin, or the uploader of that version)."""
    client.request("POST", f"/probation/reject{t.path()}", f"rejection of {t}", token=client.token).close()


def remove(client: RegistryClient, t: Target) -> None:
    """``DELETE /remove/p[/a[/v]]`` (admin)."""
    client.request("DELETE", f"/remove{t.path()}", f"removal of {t}", token=client.token).close()


def dependents(client: RegistryClient, t: Target) -> list[dict[str, Any]] | None:
    """The versions outside ``t`` that link into it (``GET /_selenite/dependents``), each
    ``{"project", "asset", "version", "paths"}``; None when the registry has no such route."""
    params = {k: v for k, v in (("project", t.project), ("asset", t.asset), ("version", t.version)) if v}
    try:
        resp = client.request("GET", "/_selenite/dependents", "the versions linking into it", params=params,
                              token=client.token, lookup=True)
    except NotFound:
        return None
    try:
        data = answers.load_json(resp.content)
    except ValueError:
        data = None
    if not answers.is_dependents(data):
        raise RegistryError("registry sent a malformed list of dependent versions")
    return list(data)


def permissions(client: RegistryClient, project: str) -> dict[str, Any]:
    """A project's ``..permissions``: ``{"owners": [str], "uploaders": [{"id": str, ...}]}``."""
    try:
        data = client.get_json(f"{project}/..permissions", f"permissions of {project}")
    except NotFound:
        raise FatalError(f"the registry at {client.url} has no project {project!r}") from None
    if not answers.is_permissions(data):
        raise RegistryError(f"the permissions of {project} are malformed")
    return {"owners": data.get("owners", []), "uploaders": data.get("uploaders", [])}


def set_permissions(client: RegistryClient, project: str, body: dict[str, Any]) -> None:
    """``PUT /permissions/p``: each list given replaces the stored one wholesale (§1.9)."""
    client.request("PUT", f"/permissions/{quote_key(project)}", f"permissions of {project}", token=client.token,
                   json_body=body).close()
