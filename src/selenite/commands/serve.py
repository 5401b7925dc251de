"""`selenite serve`: run the registry."""

from __future__ import annotations

import ipaddress
import logging
import socket
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import uvicorn

from selenite import output
from selenite.errors import FatalError
from selenite.server.app import create_app
from selenite.server.connections import fd_budget, protocol_class
from selenite.server.context import ServerSettings
from selenite.server.errors import SetupError
from selenite.server.staging import start_sweeper
from selenite.server.storage.factory import open_storage

if TYPE_CHECKING:
    from selenite.server.storage.s3settings import S3Settings


def _bind(host: str, port: int) -> socket.socket:
    """Bind ourselves, so a busy port is one clear line (uvicorn would log and exit)."""
    try:
        family, kind, proto, _, addr = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
        sock = socket.socket(family, kind, proto)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(addr)
    except OSError as e:
        raise FatalError(f"cannot listen on {host}:{port}: {e.strerror or e}") from None
    sock.set_inheritable(True)
    return sock


def _check_public_url(url: str | None) -> str | None:
    if url is None:
        return None
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.query or parts.fragment:
        raise FatalError(f"--public-url {url!r} must be an http(s) URL such as https://registry.example.org")
    return url.rstrip("/")


def _is_loopback(host: str) -> bool:
    try:
        return all(ipaddress.ip_address(info[4][0]).is_loopback for info in socket.getaddrinfo(host, None))
    except (OSError, ValueError):
        return host == "localhost"


def serve(
    root: Path | None,
    storage: str | None,
    s3: S3Settings,
    host: str,
    port: int,
    admins: list[str],
    lock_ttl: float,
    max_json_bytes: int = 16 << 20,
    max_list_entries: int = 100_000,
    public_url: str | None = None,
    header_timeout: float = 10.0,
    idle_timeout: float = 60.0,
    keep_alive: float = 5.0,
    max_connections: int | None = None,
) -> int:
    """Run the registry until Ctrl-C (or SIGTERM); prints its URL on stderr once it listens."""
    for name, value in (("--lock-ttl", lock_ttl), ("--header-timeout", header_timeout),
                        ("--idle-timeout", idle_timeout), ("--keep-alive", keep_alive)):
        if value <= 0:
            raise FatalError(f"{name} must be a positive number of seconds")
    public_url = _check_public_url(public_url)
    try:
        store = open_storage(root=root, storage=storage, s3=s3)
    except SetupError as e:  # the server's refusals are one line here, like every CLI error
        raise FatalError(str(e)) from None
    settings = ServerSettings(
        admins=tuple(dict.fromkeys(a.strip() for a in admins if a.strip())),
        lock_ttl=lock_ttl,
        public_url=public_url,
        max_json_bytes=max_json_bytes,
        max_list_entries=max_list_entries,
        upload_idle_timeout=idle_timeout,  # the app's own deadline for upload bodies: the same knob
    )
    app = create_app(store, settings)
    if not _is_loopback(host) and not (public_url or "").startswith("https://"):
        output.info(
            f"warning: listening on {host}, beyond this machine, over plain HTTP: tokens and data cross the "
            "network unencrypted. Put a TLS proxy in front and pass --public-url https://... "
            "(see docs/operate/deploy.md)."
        )
    sock = _bind(host, port)
    actual_port = sock.getsockname()[1]
    shown_host = f"[{host}]" if ":" in host else host

    class _Server(uvicorn.Server):
        async def startup(self, sockets: list[socket.socket] | None = None) -> None:
            await super().startup(sockets=sockets)
            if self.started:
                output.info(f"selenite registry on http://{shown_host}:{actual_port} ({store.describe()})")

    logging.getLogger("selenite.server").addHandler(logging.StreamHandler())
    default_cap, backlog = fd_budget()
    config = uvicorn.Config(
        app,
        http=protocol_class(header_timeout, idle_timeout, max_connections or default_cap),
        backlog=backlog,
        timeout_keep_alive=keep_alive,  # type: ignore[arg-type]  # a float works; uvicorn annotates int
        log_level="warning",
        access_log=False,
        lifespan="off",
        timeout_graceful_shutdown=5,
    )
    server = _Server(config)
    stop_sweeping = start_sweeper(app.state.ctx)  # staged bytes of dead upload sessions
    try:
        server.run(sockets=[sock])
    except KeyboardInterrupt:  # uvicorn shut down gracefully, then re-raised the Ctrl-C it caught
        pass
    finally:
        stop_sweeping()
        sock.close()
    output.info("selenite registry stopped")
    return 0
