"""`selenite serve` and `selenite token create` as a user runs them."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
from pathlib import Path

import requests
from tests.support.ports import free_port


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "selenite", *args], capture_output=True, text=True, timeout=60)


def test_serve_announces_its_url_and_stops_cleanly_on_ctrl_c(tmp_path: Path) -> None:
    port = free_port()
    args = [sys.executable, "-m", "selenite", "serve", "--root", str(tmp_path / "r"), "--port", str(port)]
    proc = subprocess.Popen(args,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = proc.stderr.readline() if proc.stderr else ""
        assert line.strip().startswith(f"selenite registry on http://127.0.0.1:{port}")
        assert requests.get(f"http://127.0.0.1:{port}/list", timeout=5).json() == []
        proc.send_signal(signal.SIGINT)
        assert proc.wait(15) == 0
        out, err = proc.communicate()
        assert "Traceback" not in err and out == ""
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_busy_port_and_bad_arguments_are_one_line_errors(tmp_path: Path) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        r = _run("serve", "--root", str(tmp_path / "r"), "--port", str(port))
        assert r.returncode == 1 and r.stderr.count("\n") == 1 and "cannot listen" in r.stderr
    r = _run("serve", "--port", str(port))
    assert r.returncode == 1 and "--root" in r.stderr and "Traceback" not in r.stderr
    r = _run("token", "create", "bad name", "--root", str(tmp_path / "r"))
    assert r.returncode == 1 and r.stderr.count("\n") == 1


def test_token_create_prints_a_token_and_stores_only_its_hash(tmp_path: Path) -> None:
    r = _run("token", "create", "alice", "--root", str(tmp_path / "r"))
    assert r.returncode == 0, r.stderr
    token = r.stdout.strip()
    assert len(token) > 30 and r.stdout.count("\n") == 1
    stored = b"".join(p.read_bytes() for p in (tmp_path / "r").rglob("*") if p.is_file())
    assert token.encode() not in stored and b"alice" in stored
    assert not list((tmp_path / "r" / "bucket").rglob("*"))  # nothing in the served key space


def test_serving_beyond_loopback_without_https_public_url_warns(tmp_path: Path) -> None:
    """192.0.2.1 (TEST-NET-1) is no address of this machine: the bind fails after the warning, so
    nothing ever listens beyond 127.0.0.1."""
    root = str(tmp_path / "r")
    r = _run("serve", "--root", root, "--host", "192.0.2.1", "--port", str(free_port()))
    lines = r.stderr.splitlines()
    assert r.returncode == 1 and len(lines) == 2, r.stderr
    assert lines[0].startswith("warning: listening on 192.0.2.1, beyond this machine, over plain HTTP")
    assert "--public-url https://" in lines[0] and "cannot listen" in lines[1]
    r = _run("serve", "--root", root, "--host", "192.0.2.1", "--port", str(free_port()),
             "--public-url", "http://registry.example.org")
    assert r.stderr.startswith("warning: listening on 192.0.2.1")
    r = _run("serve", "--root", root, "--host", "192.0.2.1", "--port", str(free_port()),
             "--public-url", "https://registry.example.org")
    assert r.returncode == 1 and r.stderr.count("\n") == 1 and "cannot listen" in r.stderr
    r = _run("serve", "--root", root, "--public-url", "ftp://registry.example.org")
    assert r.returncode == 1 and r.stderr.count("\n") == 1 and "--public-url" in r.stderr
