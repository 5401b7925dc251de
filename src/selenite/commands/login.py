"""`selenite login --url URL --token T`: remember a registry token (0600, user config folder)."""

from __future__ import annotations

from selenite import config, output


def login(url: str, token: str) -> int:
    token = token.strip()
    if not token:
        from selenite.errors import FatalError

        raise FatalError("the token is empty")
    path = config.save_login(url, token)
    output.info(f"saved the token for {config.normalize_url(url)} in {path}")
    return 0
