"""selenite's settings: its environment variables (``SELENITE_*``), the user's config files and the
command's directory, read once by the CLI into ``Settings`` and passed down. (Git's own variables are
read by ``gitrepo``, which mirrors Git's rules.)

Which registry a command talks to: ``--url``; else, inside a working tree, the registry the tree
records (git config, or its commits' trailers after a plain ``git clone``); else ``$SELENITE_URL``;
else the registry of the last ``selenite login``.

Which token goes with it (a token only ever goes to the registry it was given for): ``--token``
(given for this command); ``$SELENITE_TOKEN`` only when the registry is the one named by ``--url``
or ``$SELENITE_URL`` (a tree's recorded registry may come from someone else's commit); the token
saved by ``selenite login`` for exactly that URL.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path

from selenite import dirs
from selenite.dirs import config_dir, default_cache_dir
from selenite.errors import FatalError
from selenite.util import atomic_write

ENV_URL = "SELENITE_URL"
ENV_CACHE = dirs.ENV_CACHE  # the folders' own variables live with them (dirs.py), named here too
ENV_CONFIG = dirs.ENV_CONFIG
ENV_TOKEN = "SELENITE_TOKEN"
ENV_ADMINS = "SELENITE_ADMINS"
DEFAULT_PORT = 8787
DEFAULT_URL = f"http://127.0.0.1:{DEFAULT_PORT}"


@dataclass(frozen=True)
class Endpoint:
    """A registry a command talks to and the token it may send there."""

    url: str
    token: str | None
    withheld: str | None = None  # why $SELENITE_TOKEN was not sent here (said if a token is needed)

    def pair(self) -> tuple[str, str | None]:
        return self.url, self.token

    def need_token(self) -> str:
        if self.token:
            return self.token
        raise FatalError(self.withheld or f"no token for {self.url}: pass --token, set SELENITE_TOKEN, "
                         f"or run `selenite login --url {self.url} --token ...`")


@dataclass(frozen=True)
class Settings:
    url: str | None  # --url
    token: str | None  # --token
    cache_dir: Path
    env_url: str | None = None  # $SELENITE_URL, as given (checked only when a command needs it)
    env_token: str | None = None  # $SELENITE_TOKEN: for `url` or `env_url` only
    # The directory the command was started in: read once here, so commands never ask the process.
    cwd: Path = field(default_factory=Path.cwd)
    # Whether the tokens `selenite login` saved may be sent (the Python API's ``Registry(url, token)``
    # sends only the token it was given).
    saved_logins: bool = True

    @property
    def named_url(self) -> str | None:
        """The registry the user named for this command (``--url``, else ``$SELENITE_URL``)."""
        return normalize_url(self.url) if self.url else normalize_url(self.env_url) if self.env_url else None

    def endpoint(self, recorded: str | None = None) -> Endpoint:
        """The registry to talk to, given the one a working tree records (None outside a tree),
        and the token for it (see the module's docstring)."""
        if self.url:
            url, source = normalize_url(self.url), "--url"
        elif recorded:
            url, source = normalize_url(recorded), "the registry this tree records"
        elif self.env_url:
            url, source = normalize_url(self.env_url), "$SELENITE_URL"
        else:
            url, source = default_url() or "", "the registry of your last `selenite login`"
            if not url:
                raise FatalError("no registry URL: pass --url, set SELENITE_URL, or run `selenite login --url URL`")
        if self.token:
            return Endpoint(url, self.token)
        if self.env_token and url == self.named_url:
            return Endpoint(url, self.env_token)
        saved = token_for(url) if self.saved_logins else None
        if saved or not self.env_token:
            return Endpoint(url, saved)
        named = f"$SELENITE_URL ({self.env_url})" if self.env_url else "$SELENITE_URL or --url (both unset)"
        return Endpoint(url, None, withheld=(
            f"not sending $SELENITE_TOKEN to {url}, {source}: that token is for {named}; "
            f"run `selenite login --url {url} --token ...` or pass `--url {url}`"))


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


def _default_file() -> Path:
    return config_dir() / "registry.json"


def default_url() -> str | None:
    """The registry of the last ``selenite login`` (None if there was none)."""
    path = _default_file()
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as e:
        raise FatalError(f"cannot read {path}: {e}") from None
    url = data.get("url") if isinstance(data, dict) else None
    return normalize_url(url) if isinstance(url, str) and url else None


def save_default_url(url: str) -> None:
    path = _default_file()
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    atomic_write(path, json.dumps({"url": normalize_url(url)}).encode(), mode=0o600)


def load(
    url: str | None = None, token: str | None = None, cache: Path | None = None, cwd: Path | None = None
) -> Settings:
    """The settings a command runs with. Nothing is checked here (a malformed ``$SELENITE_URL``
    must not break commands that need no registry): ``Settings.endpoint`` checks what it uses."""
    return Settings(
        url=url or None, token=token or None, cache_dir=(cache or default_cache_dir()).expanduser(),
        env_url=os.environ.get(ENV_URL) or None, env_token=os.environ.get(ENV_TOKEN) or None,
        cwd=cwd or Path.cwd(),
    )


def admins_from_env() -> list[str]:
    return [a for a in os.environ.get(ENV_ADMINS, "").split(",") if a]
