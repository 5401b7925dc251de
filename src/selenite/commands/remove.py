"""`selenite remove PROJECT[/ASSET[@VERSION]]`: delete from the registry (administrators only).

Refused while other versions link into the target, naming them, unless ``--force``: a selenite
registry then copies the linked bytes into those versions before it deletes (the server does it,
``selenite.server.materialise``; a client cannot rewrite a version). Asks before deleting unless
``--yes``; without a terminal to ask on, ``--yes`` is required.
"""

from __future__ import annotations

import sys
from typing import Any

from selenite import output, registry
from selenite.config import Settings
from selenite.errors import FatalError, NotFound
from selenite.registry import admin
from selenite.registry.admin import Target, parse_target
from selenite.workspace import registry_endpoint

_NAMED = 5  # dependents named in a refusal; the rest are counted


def remove(settings: Settings, target: str, *, force: bool = False, yes: bool = False) -> int:
    t = parse_target(target)
    endpoint = registry_endpoint(settings)
    with registry.session_for(endpoint.url, endpoint.need_token()) as client:
        _must_exist(client, t)
        deps = admin.dependents(client, t)
        if deps is None and not force:
            raise FatalError(f"the registry at {endpoint.url} cannot tell which versions link into {t} "
                             "(not a selenite registry): pass --force to remove it anyway (their links would dangle)")
        if deps and not force:
            raise FatalError(f"refusing to remove {t}: {_describe(deps)} link into it; --force copies those files "
                             "into them first")
        files = sum(len(d["paths"]) for d in deps or [])
        copies = f"{files} linked file(s) into {len(deps or [])} version(s)"
        if not yes:
            _confirm(f"remove {t} from {endpoint.url}{f', after copying {copies}' if files else ''}?")
        admin.remove(client, t)
    output.info(output.printable(f"removed {t}{f', having copied {copies}' if files else ''}"))
    return 0


def _must_exist(client: registry.RegistryClient, t: Target) -> None:
    """The registry answers 200 to removing nothing; say plainly that there was nothing instead."""
    if t.asset is None:
        present = t.project in client.list_projects()
    elif t.version is None:
        present = bool(client.list_versions(t.project, t.asset))
    else:
        try:
            client.summary(t.project, t.asset, t.version)
            present = True
        except NotFound:
            present = False
    if not present:
        raise FatalError(output.printable(f"the registry at {client.url} has no {t}: nothing removed"))


def _describe(deps: list[dict[str, Any]]) -> str:
    named = ", ".join(f"{d['project']}/{d['asset']}@{d['version']} ({len(d['paths'])} file(s))"
                      for d in deps[:_NAMED])
    more = f" and {len(deps) - _NAMED} more" if len(deps) > _NAMED else ""
    return output.printable(f"{len(deps)} version(s) ({named}{more})")


def _confirm(question: str) -> None:
    if not sys.stdin.isatty():
        raise FatalError(f"not removing without --yes: {question.rstrip('?')} needs a confirmation, and stdin is "
                         "not a terminal")
    sys.stderr.write(output.printable(question) + " [y/N] ")
    sys.stderr.flush()
    if sys.stdin.readline().strip().lower() not in ("y", "yes"):
        raise FatalError("nothing removed")
