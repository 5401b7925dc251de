"""`selenite remove PROJECT[/ASSET[@VERSION]]`: delete from the registry (administrators only).

Refused while other versions link into the target, naming them, unless ``--force``: a selenite
registry then copies the linked bytes into those versions before it deletes (the server does it,
``selenite.server.materialise``; a client cannot rewrite a version). Asks before deleting unless
``--yes``; without a terminal to ask on, ``--yes`` is required.
"""

from __future__ import annotations

import sys

from selenite import output, registry
from selenite.api.registry import removal_dependents
from selenite.config import Settings
from selenite.errors import FatalError
from selenite.registry import admin
from selenite.registry.admin import parse_target
from selenite.workspace import registry_endpoint


def remove(settings: Settings, target: str, *, force: bool = False, yes: bool = False) -> int:
    t = parse_target(target)
    endpoint = registry_endpoint(settings)
    with registry.session_for(endpoint.url, endpoint.need_token()) as client:
        deps = removal_dependents(client, t, force=force)
        files = sum(len(d["paths"]) for d in deps)
        copies = f"{files} linked file(s) into {len(deps)} version(s)"
        if not yes:
            _confirm(f"remove {t} from {endpoint.url}{f', after copying {copies}' if files else ''}?")
        admin.remove(client, t)
    output.info(output.printable(f"removed {t}{f', having copied {copies}' if files else ''}"))
    return 0


def _confirm(question: str) -> None:
    if not sys.stdin.isatty():
        raise FatalError(f"not removing without --yes: {question.rstrip('?')} needs a confirmation, and stdin is "
                         "not a terminal")
    sys.stderr.write(output.printable(question) + " [y/N] ")
    sys.stderr.flush()
    if sys.stdin.readline().strip().lower() not in ("y", "yes"):
        raise FatalError("nothing removed")
