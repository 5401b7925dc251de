"""`selenite login --url URL --token T`: check a token against its registry, remember it (0600, user
config folder) and make that registry the default outside working trees."""

from __future__ import annotations

from selenite import config, output, registry
from selenite.errors import FatalError, RegistryError


def login(url: str, token: str) -> int:
    token = token.strip()
    if not token:
        raise FatalError("the token is empty")
    url = config.normalize_url(url)
    with registry.session_for(url, token) as client:
        try:
            who = client.whoami()
        except RegistryError as e:
            if e.status in (401, 403):
                raise FatalError(f"the registry at {url} refused this token ({e.status}): nothing saved") from None
            raise FatalError(f"{e}: nothing saved") from None
    path = config.save_login(url, token)
    config.save_default_url(url)
    if who is None:
        output.info(f"saved the token for {url} in {path} (this registry cannot say whose token it is); "
                    "it is now the default registry")
    else:
        role = " (an administrator)" if who.get("admin") is True else ""
        user = who["user"] if who["user"].isprintable() else repr(who["user"])
        output.info(f"logged in to {url} as {user[:100]}{role}: token saved in {path}; it is now the default registry")
    return 0
