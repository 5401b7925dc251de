"""kill -9 at the machine-level flush point of the cache's batch model (cache/durable.py, fsbatch.py): every
object of a batch written to its temp file, none flushed or renamed yet. Afterwards no object under
a valid key has wrong bytes, and re-running the clone finishes the job."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from tests.faults import faultlib
from tests.support.cli import selenite
from tests.support.files import tree_files
from tests.support.registry import Registry

# The CLI, with the batch flush replaced by a SIGKILL of the process at its Nth call.
_KILLED_AT_FLUSH = """
import os, signal, sys, threading
from selenite import fsbatch
lock, calls, real = threading.Lock(), [0], fsbatch.flush
def flush(fds, tmp, batch):
    with lock:
        calls[0] += 1
        if calls[0] == int(os.environ["KILL_AT_FLUSH"]):
            os.kill(os.getpid(), signal.SIGKILL)
    real(fds, tmp, batch)
fsbatch.flush = flush
sys.argv[0] = "selenite"
from selenite.cli import main
main()
"""


def test_kill_between_the_object_writes_and_the_batch_flush(folder_registry: Registry, tmp_path: Path) -> None:
    expected = faultlib.seed_clone_source(folder_registry, tmp_path, n_small=300, big_mib=0)  # 5 batches
    for at in (1, 3):  # the first batch (nothing installed yet), and one after others were installed
        cache, dest = tmp_path / f"cache-{at}", tmp_path / f"clone-{at}"
        env = {**os.environ, "SELENITE_CACHE": str(cache), "KILL_AT_FLUSH": str(at)}
        args = ["clone", f"{faultlib.CLONE_PROJECT}/data@v1", str(dest), "--url", folder_registry.url, "-j", "2"]
        killed = subprocess.run([sys.executable, "-c", _KILLED_AT_FLUSH, *args], env=env, capture_output=True)
        assert killed.returncode == -signal.SIGKILL, killed.stderr.decode()[-400:]
        written = [n for n in os.listdir(cache / "tmp") if n.startswith("in-")]
        assert written, "killed before the batch's objects were written"  # the point is after the writes
        assert faultlib.bad_objects(cache) == []
        selenite(*args, cwd=tmp_path, env=env)  # the plain CLI this time
        assert faultlib.bad_objects(cache) == []
        assert selenite("fsck", cwd=dest, env=env).returncode == 0
        assert tree_files(dest) == expected
