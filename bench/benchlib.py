"""Plumbing shared by the benchmark cases: the registry process, isolated environments, timing,
peak memory, clean-up and the machine's description. Nothing here measures anything by itself."""

from __future__ import annotations

import contextlib
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.support.env import isolated_environ

PY = sys.executable
ADMIN = "bench-admin"


def rm_tree(path: Path) -> None:
    """Remove a folder, cache objects included (they and their folders are read-only by design)."""
    if not os.path.lexists(path):
        return
    subprocess.run(["chmod", "-R", "u+w", str(path)], check=False, capture_output=True)
    shutil.rmtree(path, ignore_errors=True)


class Env:
    """An isolated HOME, git identity and selenite settings for every subprocess the bench runs."""

    def __init__(self, base: Path, url: str, token: str) -> None:
        self.base = base
        self.vars: dict[str, str] = isolated_environ(base, who="bench", email="bench@example.com")
        self.vars.update({
            "SELENITE_URL": url, "SELENITE_TOKEN": token, "SELENITE_CONFIG_DIR": str(base / "home" / "selenite-config"),
            "SELENITE_CACHE": str(base / "default-cache"),
        })

    def with_(self, **extra: str) -> dict[str, str]:
        return {**self.vars, **extra}


def stats_delta(before: dict[str, int], after: dict[str, int]) -> dict[str, int]:
    """Counters moved between two snapshots, minus the stats call that took ``after`` itself."""
    out = {k: after.get(k, 0) - before.get(k, 0) for k in after}
    out["requests"] -= 1
    return out


def vm_hwm_kib(pid: int) -> int | None:
    """The process's peak resident set (VmHWM) in KiB, or None once it is gone."""
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


def reset_hwm(pid: int) -> bool:
    """Reset a process's VmHWM to its current RSS (``clear_refs`` 5), so a later reading is the peak
    of what follows. False when the kernel does not allow it."""
    try:
        with open(f"/proc/{pid}/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


@dataclass
class Timed:
    seconds: float
    peak_kib: int = 0
    stdout: str = ""
    stderr: str = ""


def run(cmd: Sequence[str], *, env: dict[str, str], cwd: Path | None = None, watch_memory: bool = False,
        input: str | None = None) -> Timed:
    """Run a command as a user would, wall-clock timed; fail loudly on a non-zero exit.

    With ``watch_memory`` its VmHWM is sampled while it runs and its ``ru_maxrss`` taken at exit
    (``os.wait4``); the larger is kept (both are the peak resident set of that one process)."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(list(cmd), env=env, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            stdin=subprocess.PIPE if input is not None else subprocess.DEVNULL, text=True)
    peak = [0]
    done = threading.Event()

    def sample() -> None:
        while not done.is_set():
            v = vm_hwm_kib(proc.pid)
            if v is not None:
                peak[0] = max(peak[0], v)
            done.wait(0.02)

    sampler = threading.Thread(target=sample, daemon=True) if watch_memory else None
    if sampler is not None:
        sampler.start()
    # Read the pipes in threads so that os.wait4 (which reaps the child and gives its rusage) can
    # run on this thread without a full pipe blocking the child.
    outs: dict[str, str] = {}
    readers = [threading.Thread(target=lambda n=n, s=s: outs.__setitem__(n, s.read()), daemon=True)
               for n, s in (("out", proc.stdout), ("err", proc.stderr))]
    for r in readers:
        r.start()
    if input is not None:
        assert proc.stdin is not None
        proc.stdin.write(input)
        proc.stdin.close()
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - t0
    proc.returncode = os.waitstatus_to_exitcode(status)
    done.set()
    for r in readers:
        r.join()
    if sampler is not None:
        sampler.join()
    if proc.returncode != 0:
        raise SystemExit(f"`{' '.join(map(str, cmd))}` exited {proc.returncode}:\n{outs.get('err', '')[-2000:]}")
    return Timed(elapsed, max(peak[0], int(usage.ru_maxrss)), outs.get("out", ""), outs.get("err", ""))


def median(xs: Sequence[float]) -> float:
    return float(statistics.median(xs))


@contextlib.contextmanager
def scratch(base: Path, name: str) -> Iterator[Path]:
    """A fresh folder under ``base`` that is removed afterwards (removal is never timed)."""
    d = Path(tempfile.mkdtemp(prefix=f"{name}-", dir=base))
    try:
        yield d
    finally:
        rm_tree(d)


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _ram() -> str:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
    except OSError:
        pass
    return "unknown"


def machine() -> dict[str, Any]:
    git = subprocess.run(["git", "--version"], capture_output=True, text=True, check=False).stdout.strip()
    curl = (
        subprocess.run(["curl", "--version"], capture_output=True, text=True, check=False)
        .stdout.split("\n")[0]
        .split(" (")[0]
        if shutil.which("curl")
        else "absent"
    )
    from importlib.metadata import version

    return {
        "cpu": _cpu_model(),
        "cores": os.cpu_count(),
        "ram": _ram(),
        "python": platform.python_version(),
        "git": git.replace("git version ", ""),
        "curl": curl,
        "kernel": platform.release(),
        "gypsum_client": version("gypsum-client"),
        "selenite": version("selenite"),
        "date": time.strftime("%Y-%m-%d %H:%M %Z"),
    }
