"""The one place that reads the environment and the user's config files.

Precedence for every setting: the command-line option, then the environment variable, then the
file written by ``selenite login`` (tokens only), then the built-in default.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import platformdirs

from selenite.errors import FatalError
from selenite.util import atomic_write

ENV_URL = "SELENITE_URL"
ENV_TOKEN = "SELENITE_TOKEN"
ENV_CACHE = "SELENITE_CACHE"
ENV_CONFIG = "SELENITE_CONFIG_DIR"
ENV_ADMINS = "SELENITE_ADMINS"
DEFAULT_PORT = 8787
DEFAULT_URL = f"http://127.0.0.1:{DEFAULT_PORT}"


class Settings:
    """What a command runs with. The registry URL (and the token that goes with it) is checked
    only when a command asks for it: status, gc, check and the pre-commit hook talk to no registry
    and must work whatever ``SELENITE_URL`` holds."""

    def __init__(self, url: str | None, token: str | None, cache_dir: Path) -> None:
        self._url = url
        self._token = token
        self.cache_dir = cache_dir

    @property
    def url(self) -> str | None:
        return normalize_url(self._url) if self._url else None

    @property
    def token(self) -> str | None:
        return self._token or token_for(self.url)


def config_dir() -> Path:
    env = os.environ.get(ENV_CONFIG)
    return Path(env) if env else Path(platformdirs.user_config_dir("selenite"))


def default_cache_dir() -> Path:
    env = os.environ.get(ENV_CACHE)
    return Path(env) if env else Path(platformdirs.user_cache_dir("selenite"))


def _credentials_file() -> Path:
    return config_dir() / "credentials.json"


def _read_credentials() -> dict[str, str]:
    path = _credentials_file()
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        return {}
    except (OSError, ValueError) as e:
        raise FatalError(f"cannot read {path}: {e}") from None
    return {k: v for k, v in data.items() if isinstance(k, str) and isinstance(v, str)}


def normalize_url(url: str) -> str:
    url = url.strip().rstrip("/")
    if not url.startswith(("http://", "https://")):
        raise FatalError(f"registry URL {url!r} must start with http:// or https://")
    return url


def save_login(url: str, token: str) -> Path:
    """Remember a token for a registry, readable by the user only (0600)."""
    creds = _read_credentials()
    creds[normalize_url(url)] = token
    path = _credentials_file()
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    atomic_write(path, json.dumps(creds, indent=2).encode(), mode=0o600)
    return path


def token_for(url: str | None) -> str | None:
    if url is None:
        return None
    return _read_credentials().get(normalize_url(url))


def load(url: str | None = None, token: str | None = None, cache: Path | None = None) -> Settings:
    """Resolve the settings a command runs with (options win over the environment)."""
    url = url or os.environ.get(ENV_URL) or None
    token = token or os.environ.get(ENV_TOKEN) or None
    return Settings(url=url, token=token, cache_dir=(cache or default_cache_dir()).expanduser())


def admins_from_env() -> list[str]:
    return [a for a in os.environ.get(ENV_ADMINS, "").split(",") if a]
