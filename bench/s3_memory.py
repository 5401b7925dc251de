"""Peak memory of `selenite serve --storage s3://...` while a 1 GiB file goes up and comes down.

Starts a SeaweedFS `weed mini` on free 127.0.0.1 ports (tests/support/s3server.py) and one `selenite serve`
over a bucket in it, then:

1. upload: start an upload, get the presigned URL, PUT the file's bytes straight to the object store
   (streamed from disk, Content-MD5 signed), complete;
2. download: GET /file/<key> THROUGH the server, streamed to a hash (the server reads the object in
   chunks and forwards them).

The server's peak resident memory is its kernel high-water mark (VmHWM in /proc/<pid>/status; no
psutil needed). The target is under 200 MB for both legs. The server's own counters show that the
upload's bytes never reached it (upload_put_bytes = 0) while the download's did.

    .venv/bin/python bench/s3_memory.py [--size-mib 1024] [--limit-mb 200]
"""

from __future__ import annotations

import argparse
import hashlib
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import quote

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run as a script: make `tests.support` importable

from tests.support import s3server  # the same SeaweedFS launcher the tests use
from tests.support.serve import start_serve, stop

_CHUNK = 1 << 20


def vm_kib(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise RuntimeError(f"no {field} in /proc/{pid}/status")


def mb(kib: int) -> float:
    return kib * 1024 / 1e6


def run(*args: str, env: dict[str, str]) -> str:
    proc = subprocess.run(
        [sys.executable, "-m", "selenite", *args], capture_output=True, text=True, env=env, check=False
    )
    if proc.returncode != 0:
        raise RuntimeError(f"selenite {' '.join(args)} failed: {proc.stderr.strip()}")
    return proc.stdout.strip()


def make_file(path: Path, size: int) -> str:
    h = hashlib.md5()
    block = os.urandom(_CHUNK)  # random once; varied per chunk so no store can dedupe it
    with open(path, "wb") as f:
        for i in range(0, size, _CHUNK):
            chunk = (i.to_bytes(8, "little") + block)[: min(_CHUNK, size - i)]
            h.update(chunk)
            f.write(chunk)
    return h.hexdigest()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size-mib", type=int, default=1024)
    ap.add_argument("--limit-mb", type=float, default=200.0)
    opts = ap.parse_args()
    size = opts.size_mib * 1024 * 1024

    with tempfile.TemporaryDirectory(prefix="selenite-s3-bench-") as tmp_s:
        tmp = Path(tmp_s)
        weed = s3server.shared()
        server: subprocess.Popen[bytes] | None = None
        try:
            bucket = weed.shared_bucket()
            env = {**os.environ, **s3server.aws_env()}
            storage = ["--storage", f"s3://{bucket}/bench", "--s3-endpoint", weed.endpoint]
            admin = run("token", "create", "admin", *storage, env=env)
            server, port = start_serve([*storage, "--admin", "admin"], log=tmp / "server.log", env=s3server.aws_env())
            url = f"http://127.0.0.1:{port}"
            auth = {"Authorization": f"Bearer {admin}"}
            base = mb(vm_kib(server.pid, "VmRSS"))

            print(f"writing a {opts.size_mib} MiB test file ...", flush=True)
            data = tmp / "big.bin"
            md5 = make_file(data, size)

            r = requests.post(
                f"{url}/create/bench", headers=auth, json={"permissions": {"owners": ["admin"]}}, timeout=30
            )
            r.raise_for_status()
            t0 = time.monotonic()
            body = {"files": [{"type": "simple", "path": "big.bin", "md5sum": md5, "size": size}]}
            init = requests.post(f"{url}/upload/start/bench/blob/v1", headers=auth, json=body, timeout=30).json()
            session = {"Authorization": f"Bearer {init['session_token']}"}
            pre = requests.post(url + init["file_urls"][0]["url"], headers=session, timeout=30).json()
            with open(data, "rb") as f:
                r = requests.put(pre["url"], data=f, headers={"Content-MD5": pre["md5sum_base64"],
                                                                "Content-Length": str(size)}, timeout=600)
            r.raise_for_status()
            requests.post(url + init["complete_url"], headers=session, timeout=60).raise_for_status()
            up_s = time.monotonic() - t0
            after_up = mb(vm_kib(server.pid, "VmHWM"))
            stats_up = requests.get(f"{url}/_selenite/stats", timeout=10).json()

            t0 = time.monotonic()
            h = hashlib.md5()
            got = 0
            with requests.get(f"{url}/file/{quote('bench/blob/v1/big.bin', safe='')}", stream=True, timeout=600) as r:
                r.raise_for_status()
                etag = r.headers.get("ETag", "")
                for chunk in r.iter_content(_CHUNK):
                    h.update(chunk)
                    got += len(chunk)
            down_s = time.monotonic() - t0
            after_down = mb(vm_kib(server.pid, "VmHWM"))
            stats = requests.get(f"{url}/_selenite/stats", timeout=10).json()
            weed_peak = mb(vm_kib(weed.proc.pid, "VmHWM")) if weed.proc else float("nan")
        finally:
            if server is not None:
                stop(server)
            s3server.stop_shared()

    ok_bytes = got == size and h.hexdigest() == md5 and etag.strip('"') == md5
    print(f"file: {opts.size_mib} MiB, md5 {md5}; md5 of the bytes served back: {'match' if ok_bytes else 'MISMATCH'}")
    print(f"upload   (client -> presigned S3 PUT): {up_s:6.1f} s, {size / up_s / 1e6:7.1f} MB/s; "
          f"server received {stats_up['upload_put_bytes']} upload bytes")
    print(f"download (GET /file through server):   {down_s:6.1f} s, {size / down_s / 1e6:7.1f} MB/s; "
          f"server sent {stats['file_get_bytes']} bytes")
    print(f"server RSS at start: {base:.1f} MB; peak RSS (VmHWM) after upload: {after_up:.1f} MB, "
          f"after download: {after_down:.1f} MB (limit {opts.limit_mb:.0f} MB)")
    print(f"(SeaweedFS itself peaked at {weed_peak:.1f} MB; not part of the limit)")
    passed = ok_bytes and stats_up["upload_put_bytes"] == 0 and max(after_up, after_down) < opts.limit_mb
    print("PASS" if passed else "FAIL")
    return 0 if passed else 1


if __name__ == "__main__":
    raise SystemExit(main())
