"""The registry under load: N client threads x M mixed requests against a real `selenite serve`.

Each client has its own project (there is one upload lock per project) and loops over a seeded
random mix: reads (``GET``/``HEAD /file``, ``/list``) of a shared version, checked byte for byte;
steps of an upload state machine on its project (start -> presign + PUT per file -> complete, or
abort); and refusals that must be 4xx (no token, a foreign session token, a second start while its
own upload holds the lock, a missing key). Afterwards: no 5xx and no transport error anywhere,
every completed version's manifest and files are there with the right bytes, aborted ones are
gone, no lock is left, and each project's ``..usage`` equals both the bytes the clients uploaded
and the registry's own recount (``POST /refresh/usage``).
"""

from __future__ import annotations

import base64
import hashlib
import random
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

import requests

from tests.support.registry import Registry, start_registry
from tests.support.seed import upload_version

READ_PROJECT = "loadread"


def q(key: str) -> str:
    return quote(key, safe="")


def md5(data: bytes) -> str:
    return hashlib.md5(data).hexdigest()


@dataclass
class Upload:
    version: str
    files: dict[str, bytes]
    links: dict[str, str]  # path -> key of the read version it links to
    init: dict[str, Any] | None = None
    pending: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class ClientResult:
    requests: int = 0
    statuses: dict[int, int] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    completed: dict[str, Upload] = field(default_factory=dict)
    aborted: list[str] = field(default_factory=list)
    uploaded_bytes: int = 0


class Client:
    def __init__(self, reg: Registry, index: int, token: str, reads: dict[str, bytes], seed: int, budget: int) -> None:
        self.reg, self.i, self.token, self.reads = reg, index, token, reads
        self.rng = random.Random(seed * 1_000_003 + index)
        self.project = f"load{index}"
        self.http = requests.Session()
        self.budget = budget
        self.out = ClientResult()
        self.current: Upload | None = None
        self.n_versions = 0

    # --- one request, accounted --------------------------------------------------------------

    def call(self, method: str, path: str, expect: str, **kw: Any) -> requests.Response | None:
        """``expect``: "2xx", "4xx" or "any" (every answer must at least not be a 5xx)."""
        self.out.requests += 1
        url = path if path.startswith("http") else self.reg.url + path
        try:
            r = self.http.request(method, url, timeout=60, allow_redirects=False, **kw)
        except requests.RequestException as e:
            self.out.problems.append(f"{method} {path}: transport error {e}")
            return None
        self.out.statuses[r.status_code] = self.out.statuses.get(r.status_code, 0) + 1
        bad = (r.status_code >= 500 or (expect == "2xx" and not 200 <= r.status_code < 300)
               or (expect == "4xx" and not 400 <= r.status_code < 500))
        if bad:
            self.out.problems.append(f"{method} {path}: {r.status_code} (expected {expect}) {r.text[:200]}")
        return r

    def auth(self, token: str | None = None) -> dict[str, str]:
        return {"Authorization": f"Bearer {token or self.token}"}

    # --- operations ------------------------------------------------------------------------------

    def read(self) -> None:
        path, data = self.rng.choice(sorted(self.reads.items()))
        key = f"{READ_PROJECT}/data/v1/{path}"
        if self.rng.random() < 0.25:
            r = self.call("HEAD", f"/file/{q(key)}", "2xx")
            if r is not None and r.ok and r.headers.get("Content-Length") != str(len(data)):
                self.out.problems.append(f"HEAD {key}: Content-Length {r.headers.get('Content-Length')} != {len(data)}")
            return
        r = self.call("GET", f"/file/{q(key)}", "2xx")
        if r is not None and r.ok and r.content != data:
            self.out.problems.append(f"GET {key}: wrong bytes ({len(r.content)} of {len(data)})")

    def listing(self) -> None:
        recursive = self.rng.random() < 0.5
        prefix = self.rng.choice([f"{READ_PROJECT}/data/v1/", f"{READ_PROJECT}/", f"{self.project}/", ""])
        r = self.call("GET", "/list", "2xx", params={"prefix": prefix, "recursive": "true" if recursive else "false"})
        if r is not None and r.ok and prefix == f"{READ_PROJECT}/data/v1/" and recursive:
            got = {k[len(prefix):] for k in r.json() if not k[len(prefix):].startswith("..")}
            if got != set(self.reads):
                self.out.problems.append(f"list {prefix}: {sorted(got)[:5]}... is not the version's files")

    def refusal(self) -> None:
        kind = self.rng.randrange(4)
        if kind == 0:  # no identity
            self.call("POST", f"/upload/start/{self.project}/x/v1", "4xx", json={"files": []})
        elif kind == 1:  # a session token that is not this project's
            self.call("POST", f"/upload/complete/{self.project}/x/v1", "4xx",
                      headers={"Authorization": "Bearer 00000000-0000-4000-8000-000000000000"})
        elif kind == 2:
            self.call("GET", f"/file/{q(self.project + '/nope/v1/missing.txt')}", "4xx")
        elif self.current is not None and self.current.init is not None:  # our own lock is held
            self.call("POST", f"/upload/start/{self.project}/other/v1", "4xx", headers=self.auth(),
                      json={"files": []})
        else:  # a version that already exists
            done = next(iter(self.out.completed), None)
            if done is not None:
                self.call("POST", f"/upload/start/{self.project}/data/{done}", "4xx", headers=self.auth(),
                          json={"files": []})
            else:
                self.call("DELETE", f"/remove/{READ_PROJECT}", "4xx", headers=self.auth())

    def upload_step(self) -> None:
        if self.current is None:
            self.n_versions += 1
            files = {
                f"f{j}.bin": self.rng.randbytes(self.rng.randrange(0, 48 << 10))
                for j in range(self.rng.randrange(1, 4))
            }
            links = {
                f"l{j}.txt": p for j, p in enumerate(self.rng.sample(sorted(self.reads), self.rng.randrange(0, 3)))
            }
            self.current = Upload(f"v{self.n_versions}", files, links)
        u = self.current
        if u.init is None:
            entries = [{"type": "simple", "path": p, "md5sum": md5(d), "size": len(d)} for p, d in u.files.items()]
            entries += [
                {
                    "type": "link",
                    "path": p,
                    "link": {"project": READ_PROJECT, "asset": "data", "version": "v1", "path": t},
                }
                for p, t in u.links.items()
            ]
            r = self.call("POST", f"/upload/start/{self.project}/data/{u.version}", "2xx", headers=self.auth(),
                          json={"files": entries})
            if r is None or not r.ok:
                self.current = None
                return
            u.init = r.json()
            u.pending = list(u.init["file_urls"])
            return
        if u.pending and self.rng.random() < 0.9:
            fu = u.pending.pop()
            r = self.call("POST", fu["url"], "2xx", headers=self.auth(u.init["session_token"]))
            if r is None or not r.ok:
                return
            pre = r.json()
            data = u.files[fu["path"]]
            if pre["md5sum_base64"] != base64.b64encode(hashlib.md5(data).digest()).decode():
                self.out.problems.append(f"presigned md5 for {fu['path']} is not the file's")
            self.call("PUT", pre["url"], "2xx", data=data, headers={"Content-MD5": pre["md5sum_base64"]})
            return
        if u.pending or self.rng.random() < 0.15:  # give up on this one
            r = self.call("POST", u.init["abort_url"], "2xx", headers=self.auth(u.init["session_token"]))
            if r is not None and r.ok:
                self.out.aborted.append(u.version)
            self.current = None
            return
        r = self.call("POST", u.init["complete_url"], "2xx", headers=self.auth(u.init["session_token"]))
        if r is not None and r.ok:
            self.out.completed[u.version] = u
            self.out.uploaded_bytes += sum(len(d) for d in u.files.values())
        self.current = None

    def run(self) -> None:
        ops = [(self.read, 35), (self.listing, 15), (self.upload_step, 35), (self.refusal, 15)]
        funcs, weights = zip(*ops, strict=True)
        while self.out.requests < self.budget:
            self.rng.choices(funcs, weights)[0]()
        # Leave nothing half done: an upload still open is aborted (outside the budget).
        if self.current is not None and self.current.init is not None:
            r = self.call(
                "POST", self.current.init["abort_url"], "2xx", headers=self.auth(self.current.init["session_token"])
            )
            if r is not None and r.ok:
                self.out.aborted.append(self.current.version)
        self.http.close()


def setup(reg: Registry, tmp: Path, clients: int) -> dict[str, bytes]:
    """The shared version every client reads, and one project per client owned by its user."""
    rnd = random.Random(5)
    reads = {f"r{i:02d}.bin": rnd.randbytes(rnd.randrange(1, 96 << 10)) for i in range(24)}
    s = requests.Session()
    h = {"Authorization": f"Bearer {reg.admin_token}"}
    for i in range(clients):
        r = s.post(f"{reg.url}/create/load{i}", headers=h, json={"permissions": {"owners": [f"user{i}"]}}, timeout=30)
        r.raise_for_status()
    r = s.post(f"{reg.url}/create/{READ_PROJECT}", headers=h, json={"permissions": {"owners": ["admin"]}}, timeout=30)
    r.raise_for_status()
    upload_version(reg, tmp, "v1", reads, project=READ_PROJECT, asset="data")
    return reads


def verify(reg: Registry, results: list[ClientResult], reads: dict[str, bytes]) -> list[str]:
    """After the load: every completed version whole, aborted ones gone, usage exact, no lock."""
    problems: list[str] = []
    s = requests.Session()
    h = {"Authorization": f"Bearer {reg.admin_token}"}
    for i, res in enumerate(results):
        project = f"load{i}"
        for v, u in res.completed.items():
            r = s.get(f"{reg.url}/file/{q(f'{project}/data/{v}/..manifest')}", timeout=30)
            if r.status_code != 200:
                problems.append(f"{project}/data/{v}: completed but its manifest is gone ({r.status_code})")
                continue
            manifest = r.json()
            if set(manifest) != set(u.files) | set(u.links):
                problems.append(f"{project}/data/{v}: manifest lists {sorted(manifest)}")
            for path, data in u.files.items():
                got = s.get(f"{reg.url}/file/{q(f'{project}/data/{v}/{path}')}", timeout=30)
                if got.status_code != 200 or got.content != data:
                    problems.append(f"{project}/data/{v}/{path}: lost or wrong after the load ({got.status_code})")
            for path, target in u.links.items():
                entry = manifest.get(path, {})
                if entry.get("md5sum") != md5(reads[target]) or entry.get("link", {}).get("path") != target:
                    problems.append(f"{project}/data/{v}/{path}: link entry {entry}")
        for v in res.aborted:
            r = s.get(f"{reg.url}/file/{q(f'{project}/data/{v}/..summary')}", timeout=30)
            if r.status_code != 404:
                problems.append(f"{project}/data/{v}: aborted but still there ({r.status_code})")
        if s.get(f"{reg.url}/file/{q(f'{project}/..LOCK')}", timeout=30).status_code != 404:
            problems.append(f"{project} is still locked after the load")
        usage = s.get(f"{reg.url}/file/{q(f'{project}/..usage')}", timeout=30).json()["total"]
        recount = s.post(f"{reg.url}/refresh/usage/{project}", headers=h, timeout=30).json()["total"]
        if not usage == recount == res.uploaded_bytes:
            problems.append(f"{project}: ..usage {usage}, recount {recount}, uploaded {res.uploaded_bytes}")
    return problems


def run_load(reg: Registry, tmp: Path, clients: int = 16, requests_each: int = 200, seed: int = 0) -> dict[str, Any]:
    from selenite.server.storage.factory import open_storage
    from selenite.server.tokens import create_token

    reads = setup(reg, tmp, clients)
    store = open_storage(root=reg.root)  # tokens straight into the folder: one CLI run each is slow
    tokens = [create_token(store, f"user{i}") for i in range(clients)]
    workers = [Client(reg, i, tokens[i], reads, seed, requests_each) for i in range(clients)]
    threads = [threading.Thread(target=w.run, name=f"load-{i}") for i, w in enumerate(workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(600)
    results = [w.out for w in workers]
    problems = [p for r in results for p in r.problems]
    if any(t.is_alive() for t in threads):
        problems.append("a load client did not finish within 10 minutes")
    problems += verify(reg, results, reads)
    statuses: dict[int, int] = {}
    for r in results:
        for k, n in r.statuses.items():
            statuses[k] = statuses.get(k, 0) + n
    return {
        "requests": sum(r.requests for r in results),
        "statuses": dict(sorted(statuses.items())),
        "completed_versions": sum(len(r.completed) for r in results),
        "aborted_versions": sum(len(r.aborted) for r in results),
        "uploaded_bytes": sum(r.uploaded_bytes for r in results),
        "problems": problems,
    }


def run_bench(base: Path, clients: int = 16, requests_each: int = 200, seed: int = 1) -> dict[str, Any]:
    work = base / "load"
    work.mkdir()
    reg = start_registry(work / "registry")
    try:
        out = run_load(reg, work, clients, requests_each, seed)
        alive = reg.proc is not None and reg.proc.poll() is None
        if not alive:
            out["problems"].append("the server died under load")
    finally:
        reg.stop()
    print(f"   {out['requests']} requests, statuses {out['statuses']}, {out['completed_versions']} versions "
          f"completed, {out['aborted_versions']} aborted", flush=True)
    return out
