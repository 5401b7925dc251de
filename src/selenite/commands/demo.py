"""`selenite demo`: the whole story on the embedded default, in one folder.

A registry on a local folder (a real `selenite serve` process), a demo project with a first
version, then what a user types: clone, unlock, edit, add, commit (through the pre-commit hook),
push — and the bytes that moved. Each step runs the real CLI in a subprocess and is echoed.
"""

from __future__ import annotations

import contextlib
import os
import random
import shlex
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

from selenite import output, registry
from selenite.errors import FatalError
from selenite.keys import md5_of_file

MARKER = ".selenite-demo"
PROJECT, ASSET, ADMIN = "demo", "rnaseq", "demo-admin"


def _prepare(directory: Path) -> Path:
    d = directory.absolute()
    if d.exists():
        if (d / MARKER).exists():
            _remove_tree(d)  # an earlier demo: start afresh
        elif any(d.iterdir()):
            raise FatalError(f"{d} exists and is not empty: pick another folder for the demo")
    d.mkdir(parents=True, exist_ok=True)
    (d / MARKER).write_text("made by `selenite demo`; safe to delete\n")
    return d


def _remove_tree(d: Path) -> None:
    # Cache objects and their folders are read-only by design: make them writable to delete them.
    for dirpath, dirs, _files in os.walk(d):
        for name in dirs:
            with contextlib.suppress(OSError):
                os.chmod(os.path.join(dirpath, name), 0o755)
    shutil.rmtree(d)


def _port_free(port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _write_dataset(folder: Path) -> dict[str, Path]:
    """A small RNA-seq-like dataset: 24 count tables, sample sheet, readme (about 1.5 MiB)."""
    rng = random.Random(7)
    genes = [f"ENSG{n:011d}" for n in range(1, 2001)]
    files: dict[str, Path] = {}

    def put(rel: str, text: str) -> None:
        path = folder / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        files[rel] = path

    for s in range(1, 25):
        put(f"counts/sample{s:02d}.tsv", "gene\tcount\n" + "".join(f"{g}\t{rng.randint(0, 5000)}\n" for g in genes))
    put("samples.tsv", "sample\tcondition\n"
        + "".join(f"sample{s:02d}\t{'treated' if s % 2 else 'control'}\n" for s in range(1, 25)))
    put("README.txt", "Demo RNA-seq counts for selenite.\n")
    return files


def _seed(url: str, token: str, folder: Path) -> int:
    """Create the demo project and upload its first version through the gypsum protocol."""
    files = _write_dataset(folder)
    client = registry.RegistryClient(url, token)
    try:
        client.request("POST", f"/create/{PROJECT}", "creating the demo project", token=token,
                       json_body={"permissions": {"owners": [ADMIN], "uploaders": []}}).close()
        entries: list[dict[str, object]] = []
        total = 0
        for rel, path in sorted(files.items()):
            md5, size = md5_of_file(path)
            entries.append({"type": "simple", "path": rel, "md5sum": md5, "size": size})
            total += size
        init = client.upload_start(PROJECT, ASSET, "v1", entries)
        for fu in init["file_urls"]:
            put_url, md5_b64 = client.presigned_url(fu["url"], init["session_token"], fu["path"])
            client.put_file(put_url, files[fu["path"]], md5_b64, what=fu["path"])
        client.upload_complete(init["complete_url"], init["session_token"], f"{PROJECT}/{ASSET}/v1")
    finally:
        client.close()
    shutil.rmtree(folder)
    return total


def _step(args: list[str], cwd: Path, env: dict[str, str], show: str | None = None) -> str:
    output.write(f"$ {show or shlex.join(args)}")
    proc = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, check=False)  # its output first
    for stream in (proc.stdout, proc.stderr):
        for line in stream.splitlines():
            output.write(f"  {line}")
    if proc.returncode != 0:
        raise FatalError(f"demo step failed: {show or shlex.join(args)} (exit {proc.returncode})")
    return proc.stdout


def _wait_until_listening(server: subprocess.Popen[bytes], port: int, log: Path) -> None:
    deadline = time.monotonic() + 30
    while True:
        if server.poll() is not None:
            raise FatalError(f"the demo registry did not start (see {log})")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return
        if time.monotonic() > deadline:
            raise FatalError("the demo registry did not answer within 30 s")
        time.sleep(0.05)


def _story(me: list[str], d: Path, work: Path, env: dict[str, str]) -> None:
    """Clone, edit, commit and push, each step printed as the command a user would type."""
    _step([*me, "clone", f"{PROJECT}/{ASSET}@v1", str(work)], d, env, f"selenite clone {PROJECT}/{ASSET}@v1 work")
    _step([*me, "unlock", "counts/sample01.tsv"], work, env, "selenite unlock counts/sample01.tsv")
    with open(work / "counts/sample01.tsv", "a") as f:
        f.write("ENSG99999999999\t42\n")
    output.write("$ echo 'ENSG99999999999<TAB>42' >> counts/sample01.tsv")
    (work / "counts/sample25.tsv").write_text("gene\tcount\nENSG00000000001\t7\n")
    output.write("$ (write a new file counts/sample25.tsv)")
    _step([*me, "status"], work, env, "selenite status")
    _step(["git", "add", "-A"], work, env)
    _step(["git", "commit", "-q", "-m", "Add sample25, fix sample01"], work, env)
    _step([*me, "push", "--message", "Add sample25, fix sample01"], work, env, "selenite push")
    _step(["git", "log", "--oneline", "--decorate"], work, env)


def demo(directory: Path, *, port: int, keep_serving: bool) -> int:
    d = _prepare(directory)
    if not _port_free(port):
        raise FatalError(f"port {port} is busy: run `selenite demo --port N` with a free port")
    url = f"http://127.0.0.1:{port}"
    me = [sys.executable, "-m", "selenite"]
    env = {**os.environ, "SELENITE_URL": url, "SELENITE_CACHE": str(d / "cache"),
           "SELENITE_CONFIG_DIR": str(d / "config")}
    for who in ("AUTHOR", "COMMITTER"):  # a fresh machine may have no git identity yet
        env.setdefault(f"GIT_{who}_NAME", "selenite demo")
        env.setdefault(f"GIT_{who}_EMAIL", "demo@selenite.invalid")

    token = subprocess.run([*me, "token", "create", ADMIN, "--root", str(d / "registry")],
                           env=env, check=True, capture_output=True, text=True).stdout.strip()
    env["SELENITE_TOKEN"] = token
    log = open(d / "registry.log", "ab")  # noqa: SIM115 - the server writes to it until the finally below
    server = subprocess.Popen([*me, "serve", "--root", str(d / "registry"), "--port", str(port), "--admin", ADMIN],
                              stdout=log, stderr=subprocess.STDOUT, env=env)
    try:
        _wait_until_listening(server, port, d / "registry.log")
        output.write(f"registry: {url}  (folder {d / 'registry'})")
        output.write(f"admin token for {ADMIN}: {token}")
        total = _seed(url, token, d / "seed")
        output.write(f"uploaded {PROJECT}/{ASSET}@v1: 26 files, {output.human_bytes(total)}")
        output.write("")
        work = d / "work"
        _story(me, d, work, env)
        output.write("")
        output.write(f"done: the working tree is {work}")
        if keep_serving:
            output.write(f"the registry keeps running at {url} (Ctrl-C stops it); token: {token}")
            output.write(f"browse it at {url}/ (its projects, versions, files and their changes)")
            with contextlib.suppress(KeyboardInterrupt):
                server.wait()
    finally:
        if server.poll() is None:
            server.terminate()
            try:
                server.wait(10)
            except subprocess.TimeoutExpired:
                server.kill()
        log.close()
    return 0
