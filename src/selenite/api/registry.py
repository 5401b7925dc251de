"""``Registry``: a registry the Python API talks to, and what owners and administrators do there.

Nothing here reads the environment unless asked: ``Registry(url, token)`` sends that token only,
to that URL; ``Registry.from_env()`` (and ``registry=None`` in the API's functions) resolves the
registry and token as the CLI does (``$SELENITE_URL``, ``$SELENITE_TOKEN``, ``selenite login``).
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from selenite import config, dirs, output, registry
from selenite.config import Settings
from selenite.errors import FatalError, NotFound
from selenite.registry import admin
from selenite.registry.admin import Target, parse_target
from selenite.workspace import registry_endpoint

_NAMED = 5  # dependents named in a refusal to remove; the rest are counted


@dataclass(frozen=True)
class Registry:
    """A gypsum-style registry: its ``url`` and the bearer ``token`` sent there (None: anonymous,
    which reads). ``cache`` is the shared cache folder the API's downloads go to; None: the
    default (``$SELENITE_CACHE``, else the platform's user cache folder, ``~/.cache/selenite``)."""

    url: str
    token: str | None = None
    cache: Path | None = None

    @classmethod
    def from_env(cls, cwd: Path | None = None) -> Registry:
        """The registry and token the CLI would use in ``cwd`` (default: the current folder):
        ``$SELENITE_URL`` and ``$SELENITE_TOKEN``, else a working tree's registry, else the last
        ``selenite login``'s, with the token it saved."""
        return _from_settings(config.load(cwd=cwd))

    def settings(self, cwd: Path | None = None) -> Settings:
        """The settings a command run against this registry has (no environment, no saved login)."""
        cache = self.cache if self.cache is not None else dirs.default_cache_dir()
        return Settings(url=config.normalize_url(self.url), token=self.token, cache_dir=Path(cache).expanduser(),
                        cwd=cwd or Path.cwd(), saved_logins=False)

    def _client(self, *, token: bool = True) -> AbstractContextManager[registry.RegistryClient]:
        url = config.normalize_url(self.url)
        if token and not self.token:
            raise FatalError(f"no token for {url}: Registry(url, token) needs one for this")
        return registry.session_for(url, self.token)

    def whoami(self) -> dict[str, Any]:
        """``{"user": NAME, "admin": bool}`` for this registry's token (401: ``Refused``)."""
        with self._client() as client:
            who = client.whoami()
        if who is None:
            raise FatalError(f"the registry at {self.url} cannot say whose token this is (not a selenite registry)")
        return {"user": who["user"], "admin": who.get("admin") is True}

    def projects(self) -> list[str]:
        """Every project's name."""
        with self._client(token=False) as client:
            return client.list_projects()

    def assets(self, project: str) -> list[str]:
        """The assets of ``project``."""
        with self._client(token=False) as client:
            return client.list_assets(parse_target(project).project)

    def permissions(self, project: str) -> dict[str, Any]:
        """``{"owners": [str], "uploaders": [{"id": str, ...}]}`` of ``project`` (public)."""
        with self._client(token=False) as client:
            return admin.permissions(client, parse_target(project).project)

    def set_permissions(self, project: str, *, owners: list[str] | None = None,
                        uploaders: list[dict[str, Any]] | None = None) -> None:
        """Replace ``project``'s owners and/or uploaders (each list given replaces the stored one)."""
        body: dict[str, Any] = {k: v for k, v in (("owners", owners), ("uploaders", uploaders)) if v is not None}
        with self._client() as client:
            admin.set_permissions(client, parse_target(project).project, body)

    def approve(self, ref: str) -> None:
        """Make the probational version ``PROJECT/ASSET@VERSION`` official (owners)."""
        with self._client() as client:
            admin.approve(client, parse_target(ref, need_version=True))

    def reject(self, ref: str) -> None:
        """Delete the probational version ``PROJECT/ASSET@VERSION`` (owners)."""
        with self._client() as client:
            admin.reject(client, parse_target(ref, need_version=True))

    def remove(self, target: str, *, force: bool = False) -> int:
        """Delete ``PROJECT[/ASSET[@VERSION]]`` (administrators). Refused (``Error``) while other
        versions link into it unless ``force``: the registry then copies the linked files into them
        first. Returns how many files were copied so."""
        t = parse_target(target)
        with self._client() as client:
            deps = removal_dependents(client, t, force=force)
            admin.remove(client, t)
        return sum(len(d["paths"]) for d in deps)


def _from_settings(s: Settings) -> Registry:
    endpoint = registry_endpoint(s)
    return Registry(endpoint.url, endpoint.token, s.cache_dir)


def removal_dependents(client: registry.RegistryClient, t: Target, *, force: bool) -> list[dict[str, Any]]:
    """Before removing ``t``: it must exist, and no other version may link into it unless ``force``
    (a registry that cannot tell is refused too, unless ``force``). Returns the dependents."""
    _must_exist(client, t)
    deps = admin.dependents(client, t)
    if deps is None and not force:
        raise FatalError(f"the registry at {client.url} cannot tell which versions link into {t} "
                         "(not a selenite registry): pass --force to remove it anyway (their links would dangle)")
    if deps and not force:
        raise FatalError(f"refusing to remove {t}: {_describe(deps)} link into it; --force copies those files "
                         "into them first")
    return deps or []


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
