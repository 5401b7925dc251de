"""What a project's owners do on the registry: `selenite approve|reject PROJECT/ASSET@VERSION`
(probation), `selenite permissions show|set PROJECT`, and `selenite whoami` (whose token this is).

They talk to the registry named by ``--url`` or ``$SELENITE_URL``, else the working tree's, else the
last ``selenite login``'s (``workspace.registry_endpoint``).
"""

from __future__ import annotations

import json
from typing import Any

from selenite import output, registry
from selenite.config import Settings
from selenite.errors import FatalError
from selenite.registry import admin
from selenite.registry.admin import parse_target
from selenite.workspace import registry_endpoint


def approve(settings: Settings, target: str) -> int:
    """Make a probational version official; say whether it became the latest."""
    t = parse_target(target, need_version=True)
    endpoint = registry_endpoint(settings)
    with registry.session_for(endpoint.url, endpoint.need_token()) as client:
        admin.approve(client, t)
        latest = client.latest(t.project, str(t.asset)) == t.version
    output.info(f"approved {t}" + (": it is now the latest version" if latest else " (a newer version stays latest)"))
    return 0


def reject(settings: Settings, target: str) -> int:
    """Delete a probational version (what the registry does with a rejected one)."""
    t = parse_target(target, need_version=True)
    endpoint = registry_endpoint(settings)
    with registry.session_for(endpoint.url, endpoint.need_token()) as client:
        admin.reject(client, t)
    output.info(f"rejected {t}: the version is deleted")
    return 0


def whoami(settings: Settings, *, as_json: bool = False) -> int:
    """The user the token belongs to, and whether they administer the registry."""
    endpoint = registry_endpoint(settings)
    with registry.session_for(endpoint.url, endpoint.need_token()) as client:
        who = client.whoami()
    if who is None:
        raise FatalError(f"the registry at {endpoint.url} cannot say whose token this is (not a selenite registry)")
    doc = {"url": endpoint.url, "user": who["user"], "admin": who.get("admin") is True}
    if as_json:
        output.write(json.dumps(doc, indent=2))
    else:
        output.write(output.printable(doc["user"]) + ("  (administrator)" if doc["admin"] else ""))
    return 0


def _uploader_line(u: dict[str, Any]) -> str:
    scope = [f"{k} {u[k]}" for k in ("asset", "version", "until") if isinstance(u.get(k), str)]
    if u.get("trusted") is True:
        scope.append("trusted")
    return output.printable(f"uploader  {u['id']}" + (f"  ({', '.join(scope)})" if scope else ""))


def show_permissions(settings: Settings, project: str, *, as_json: bool = False) -> int:
    """A project's owners and uploaders (public: no token needed)."""
    p = parse_target(project).project
    with registry.session_for(registry_endpoint(settings).url) as client:
        perms = admin.permissions(client, p)
    if as_json:
        output.write(json.dumps({"project": p, **perms}, indent=2))
        return 0
    for o in perms["owners"]:
        output.write(output.printable(f"owner     {o}"))
    for u in perms["uploaders"]:
        output.write(_uploader_line(u))
    if not perms["owners"] and not perms["uploaders"]:
        output.info(f"{p} has no owners or uploaders (only administrators manage it)")
    return 0


def set_permissions(
    settings: Settings, project: str, *, owners: list[str], uploaders: list[str], mode: str,
    scope: dict[str, Any],
) -> int:
    """Change a project's owners/uploaders: ``mode`` "replace" (the lists given replace the stored
    ones), "add" or "remove" (the users given join or leave the stored lists). ``scope`` holds the
    asset/version/until/trusted of uploaders added."""
    p = parse_target(project).project
    if not owners and not uploaders:
        raise FatalError("nothing to change: name users with --owner or --uploader")
    if mode == "remove" and scope:
        raise FatalError("--asset, --version, --until and --trusted describe uploaders added, not removed")
    endpoint = registry_endpoint(settings)
    with registry.session_for(endpoint.url, endpoint.need_token()) as client:
        new_entries = [{"id": u, **scope} for u in uploaders]
        if mode == "replace":
            body: dict[str, Any] = {}
            if owners:
                body["owners"] = owners
            if uploaders:
                body["uploaders"] = new_entries
        else:
            body = _merged(admin.permissions(client, p), owners, uploaders, new_entries, add=mode == "add")
        admin.set_permissions(client, p, body)
        now = admin.permissions(client, p)
    ups = ", ".join(u["id"] for u in now["uploaders"]) or "none"
    output.info(output.printable(f"permissions of {p}: owners {', '.join(now['owners']) or 'none'}; uploaders {ups}"))
    return 0


def _merged(current: dict[str, Any], owners: list[str], uploaders: list[str], new_entries: list[dict[str, Any]],
            *, add: bool) -> dict[str, Any]:
    """The stored lists with the named users added (once) or removed (every entry of theirs).
    Read, changed and written back: a change someone makes in between is lost (the protocol has
    no compare-and-swap for permissions)."""
    own: list[str] = list(current["owners"])
    ups: list[dict[str, Any]] = list(current["uploaders"])
    if add:
        own += [o for o in dict.fromkeys(owners) if o not in own]
        ups += [e for e in new_entries if e not in ups]
    else:
        missing = [u for u in owners if u not in own] + [u for u in uploaders if all(e["id"] != u for e in ups)]
        if missing:
            raise FatalError(f"not in the permissions: {', '.join(missing)}; nothing changed")
        own = [o for o in own if o not in owners]
        ups = [e for e in ups if e["id"] not in uploaders]
    return {"owners": own, "uploaders": ups}
