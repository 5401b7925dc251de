"""Free TCP ports on 127.0.0.1 for the servers the tests and benchmarks start."""

from __future__ import annotations

import socket


def free_ports(n: int) -> list[int]:
    """``n`` distinct free ports (the sockets are held open together, so the ports differ)."""
    socks: list[socket.socket] = []
    try:
        for _ in range(n):
            s = socket.socket()
            s.bind(("127.0.0.1", 0))
            socks.append(s)
        return [int(s.getsockname()[1]) for s in socks]
    finally:
        for s in socks:
            s.close()


def free_port() -> int:
    """One free port. Another process may take it before the caller binds it; the servers started
    on it fail loudly then (`serve.start_serve` reports the exit)."""
    (port,) = free_ports(1)
    return port
