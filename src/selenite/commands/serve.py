"""`selenite serve` (the registry) and `selenite token create` (its bearer tokens)."""

from __future__ import annotations

import logging
import socket
from pathlib import Path

from selenite import output
from selenite.errors import FatalError


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


def serve(
    root: Path | None,
    storage: str | None,
    s3_endpoint: str | None,
    s3_region: str | None,
    host: str,
    port: int,
    admins: list[str],
    lock_ttl: float,
) -> int:
    """Run the registry until Ctrl-C (or SIGTERM); prints its URL on stderr once it listens."""
    import uvicorn

    from selenite.server.app import create_app
    from selenite.server.context import ServerSettings
    from selenite.server.storage import open_storage

    if lock_ttl <= 0:
        raise FatalError("--lock-ttl must be a positive number of seconds")
    store = open_storage(root=root, storage=storage, s3_endpoint=s3_endpoint, s3_region=s3_region)
    settings = ServerSettings(admins=tuple(dict.fromkeys(a.strip() for a in admins if a.strip())), lock_ttl=lock_ttl)
    app = create_app(store, settings)
    sock = _bind(host, port)
    actual_port = sock.getsockname()[1]
    shown_host = f"[{host}]" if ":" in host else host

    class _Server(uvicorn.Server):
        async def startup(self, sockets: list[socket.socket] | None = None) -> None:
            await super().startup(sockets=sockets)
            if self.started:
                output.info(f"selenite registry on http://{shown_host}:{actual_port} ({store.describe()})")

    logging.getLogger("selenite.server").addHandler(logging.StreamHandler())
    config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="off", timeout_graceful_shutdown=5)
    server = _Server(config)
    try:
        server.run(sockets=[sock])
    except KeyboardInterrupt:  # uvicorn shut down gracefully, then re-raised the Ctrl-C it caught
        pass
    finally:
        sock.close()
    output.info("selenite registry stopped")
    return 0


def token_create(
    user: str, root: Path | None, storage: str | None, s3_endpoint: str | None, s3_region: str | None
) -> int:
    """Print a new token for USER on stdout; the registry keeps only its hash."""
    from selenite.server.auth import create_token
    from selenite.server.storage import open_storage

    store = open_storage(root=root, storage=storage, s3_endpoint=s3_endpoint, s3_region=s3_region)
    output.write(create_token(store, user))
    return 0
