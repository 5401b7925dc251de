"""A hostile registry cannot grow the client's memory, disk or time past what it declared, and its
malformed answers end a command with one line, not a crash (security review F8, F11).

Memory is the client process's own peak RSS (``os.wait4``); every flood is bounded so that a client
that keeps reading still ends."""

from __future__ import annotations

import os
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from selenite.registry.answers import JSON_MAX, SMALL_JSON_MAX
from tests.support.cli import selenite
from tests.support.evilreg import Endless, EvilRegistry, Reply
from tests.support.git import git

MiB = 1 << 20
RSS_MAX_KIB = 150 * 1024  # an idle client is ~60 MiB; a flood held in memory is far above this
SECRET = "sel_SECRET_TOKEN_FROM_ARGV"


# Runs the client as its own child and prints that child's peak RSS: measured from pytest itself,
# ru_maxrss would include the pytest image the child was forked from (Linux records it at exec).
_MEASURE = (
    "import resource, subprocess, sys\n"
    "rc = subprocess.call(sys.argv[1:], stdout=subprocess.DEVNULL)\n"
    "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n"
    "sys.exit(rc)\n"
)


def measured(args: list[str], cwd: Path, timeout: float = 90) -> tuple[int, str, int, float]:
    """Run the CLI; (exit code, stderr, peak RSS in KiB, seconds). Killed after ``timeout``."""
    start = time.monotonic()
    proc = subprocess.Popen([sys.executable, "-c", _MEASURE, sys.executable, "-m", "selenite", *args], cwd=cwd,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        out, err = proc.communicate()
    took = time.monotonic() - start
    return proc.returncode, err, int(out.strip() or 0) if proc.returncode >= 0 else 1 << 30, took


def cache_tmp_bytes() -> int:
    tmp = Path(os.environ["SELENITE_CACHE"]) / "tmp"
    return sum(p.stat().st_size for p in tmp.rglob("*") if p.is_file()) if tmp.exists() else 0


def test_batch_header_with_a_fake_size_is_refused(evilreg: EvilRegistry, tmp_path: Path) -> None:
    files = {"a.txt": b"0123456789", "b.txt": b"bbbb", "c.txt": b"cc"}
    evilreg.add_version("p", "a", "v1", files)
    flood = Endless(limit=2 << 30)
    evilreg.batch_size["p/a/v1/a.txt"] = 5_000_000_000
    evilreg.batch_body["p/a/v1/a.txt"] = flood
    rc, err, rss, took = measured(["clone", "--url", evilreg.url, "p/a@v1", "t"], tmp_path)
    assert rc == 0, err
    assert {p: (tmp_path / "t" / p).read_bytes() for p in files} == files  # fetched one by one instead
    assert evilreg.requested("GET", "/file/p%2Fa%2Fv1%2Fa.txt")
    assert flood.sent < 64 * MiB, "the client kept reading a record it should have refused"
    assert rss < RSS_MAX_KIB and took < 60, (rss, took)



def test_single_download_stops_at_the_declared_size(evilreg: EvilRegistry, tmp_path: Path) -> None:
    evilreg.add_version("p", "a", "v1", {"x.bin": b"0123456789"})
    flood = Endless(limit=2 << 30)
    evilreg.file_body["p/a/v1/x.bin"] = flood
    rc, err, rss, took = measured(["clone", "--url", evilreg.url, "p/a@v1", "t"], tmp_path)
    assert rc == 1 and err.count("\n") == 1, err
    assert "registry sent more bytes than declared for p/a/v1/x.bin" in err
    assert flood.sent < 64 * MiB, "the client kept reading past the 10 bytes the manifest declared"
    assert cache_tmp_bytes() == 0
    assert rss < RSS_MAX_KIB and took < 60, (rss, took)


@pytest.mark.parametrize("name, limit", [("..summary", SMALL_JSON_MAX), ("..manifest", JSON_MAX)])
def test_oversized_json_answers_are_refused(evilreg: EvilRegistry, tmp_path: Path, name: str, limit: int) -> None:
    evilreg.add_version("p", "a", "v1", {"x.txt": b"x"})
    flood = Endless(limit=limit + 64 * MiB, head=b'{"x.txt": {"size": 1, "md5sum": "')
    evilreg.file_body[f"p/a/v1/{name}"] = flood
    rc, err, rss, took = measured(["clone", "--url", evilreg.url, "p/a@v1", "t"], tmp_path)
    assert rc == 1 and err.count("\n") == 1, err
    assert f"registry sent more than {limit >> 10} KiB for version p/a/v1: refused" in err
    assert flood.sent < limit + 32 * MiB
    # The cap itself is held in memory once (a manifest is parsed whole); nothing beyond it.
    assert rss < RSS_MAX_KIB + 2 * (limit >> 10) and took < 60, (rss, took)


def _tree_with_a_new_file(evilreg: EvilRegistry, tmp_path: Path) -> Path:
    evilreg.add_version("p", "a", "v1", {"x.txt": b"x\n"})
    tree = tmp_path / "t"
    selenite("clone", "--url", evilreg.url, "p/a@v1", tree)
    (tree / "new.txt").write_text("new\n")
    git("add", "new.txt", cwd=tree)
    git("commit", "-qm", "new", cwd=tree)
    return tree


@pytest.mark.parametrize("answer", [
    Reply.of_json({"session_token": "s", "complete_url": "/upload/complete/p/a/v2", "file_urls": []}),  # no abort_url
    Reply(200, b"<html>surprise</html>", {"Content-Type": "text/html"}),
    Reply(200, b"[[[[" * 100_000, {"Content-Type": "application/json"}),  # nested too deep for json
    Reply.of_json({"session_token": 7, "complete_url": [], "abort_url": None, "file_urls": "all"}),
    Reply.of_json({"session_token": "s", "complete_url": "/c", "abort_url": "/a", "file_urls": [{"path": 1}]}),
    Reply.of_json(["not", "an", "object"]),
])
def test_malformed_upload_start_answers_are_one_line(evilreg: EvilRegistry, tmp_path: Path, answer: Reply) -> None:
    tree = _tree_with_a_new_file(evilreg, tmp_path)
    evilreg.routes[("POST", "/upload/start/")] = lambda req: answer
    r = selenite("push", "--token", SECRET, cwd=tree, check=False)
    assert r.returncode == 1, r.stderr
    assert r.stderr.count("\n") == 1 and "Traceback" not in r.stderr and "unexpected" not in r.stderr
    assert "upload start" in r.stderr and ("malformed" in r.stderr or "not JSON" in r.stderr), r.stderr
    assert not list(Path(os.environ["HOME"]).rglob("crash.log"))


def test_crash_log_is_private_and_holds_no_secret(tmp_path: Path) -> None:
    state = Path(os.environ["XDG_STATE_HOME"]) / "selenite"
    state.mkdir(parents=True, mode=0o755)
    (state / "crash.log").write_text("an old entry\n")
    os.chmod(state / "crash.log", 0o644)
    crash = (
        "import sys\n"
        "from selenite.error_handler import error_handler\n"
        f"sys.argv = ['selenite', 'push', '--token', '{SECRET}', '--token=sel_second_secret_9', "
        "'AWS_SECRET_ACCESS_KEY=aws-secret-value', '--url', 'http://me:url-pass-5678@host/']\n"
        "with error_handler():\n"
        f"    raise RuntimeError('bad answer holding {SECRET} and ghp_abcdefghijklmnop and env-secret-1234')\n"
    )
    env = {**os.environ, "SELENITE_TOKEN": "env-secret-1234"}
    r = subprocess.run([sys.executable, "-c", crash], capture_output=True, text=True, env=env, timeout=60)
    assert r.returncode == 3 and r.stderr.count("\n") == 1, r.stderr
    log = (state / "crash.log").read_text()
    assert "an old entry" in log and "RuntimeError" in log and "<redacted>" in log
    for secret in (SECRET, "sel_second_secret_9", "aws-secret-value", "ghp_abcdefghijklmnop", "env-secret-1234",
                   "url-pass-5678"):
        assert secret not in log and secret not in r.stderr, secret
    assert stat.S_IMODE((state / "crash.log").stat().st_mode) == 0o600
    assert stat.S_IMODE(state.stat().st_mode) == 0o700
