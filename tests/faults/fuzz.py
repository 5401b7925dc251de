"""Malformed input to every route of the registry, property-based (hypothesis).

The routes come from the running server's own ``/openapi.json``, so a route added later is fuzzed
too. Each example is one raw HTTP request (``http.client``: the path goes out byte for byte, no
client-side normalisation of ``..`` or ``%2F``) with hostile path segments, query values, headers
(no token, garbage, the admin's token, a live upload session's token) and bodies (nothing, junk
bytes, random JSON, upload/permission/quota bodies with hostile paths and values).

The property: no 5xx, the server stays up, and nothing is written outside the storage root (the
folder around it is snapshotted before and after; inside the root only ``bucket/``, ``state/`` and
``tmp/`` may change, and no symlink appears).
"""

from __future__ import annotations

import http.client
import json
import os
import re
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

import requests
from hypothesis import HealthCheck, given, seed, settings
from hypothesis import strategies as st

from tests.support.registry import Registry, start_registry

HOSTILE = [
    "..", ".", "%2e%2e", "%2E%2E%2F", "..%2F..%2F..%2Fetc", "..%2f", "%2F", "a%2Fb", "a%2F..%2F..%2Fb",
    "%00", "a%00b", "%5C..%5C", "..\\..", "~", "%7E", "..LOCK", "..permissions", "..summary", "..latest",
    "%252e%252e", "%", "%zz", "%C0%AE%C0%AE", "%E2%80%AE", "CON", "%20", "+", "a+b", "%2B", "*", "?",
    "%3F", "%23", "x" * 300, "%FF%FE", "\u00e9", "%C3%A9", "/", "%2F%2F", "v1", "p", "",
]
HOSTILE_PATHS = [
    "../x", "/abs", "a/../../b", "a//b", "./a", "a/./b", "a\\b", "..", ".", "a/..", "\x00", "a\x00b", "",
    "..summary", "d/..links", "..manifest", "x/" * 60 + "y", "a" * 300, "\u202e", "ok.txt", "dir/ok.txt",
]


def _segment() -> st.SearchStrategy[str]:
    plain = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=24).map(
        lambda s: quote(s, safe="")
    )
    raw_ascii = st.text(st.characters(min_codepoint=0x21, max_codepoint=0x7E, exclude_characters="#?"), max_size=16)
    # Valid names too, often, so that requests get past name checks into body validation, locks,
    # links and storage (the fuzzed registry runs with a short lock TTL, so locks come and go).
    valid = st.sampled_from(["fz", "fy", "a", "b", "live", "v1", "v2", "new-p", "x.txt"])
    return st.one_of(valid, st.sampled_from(HOSTILE), plain, raw_ascii)


def _json_value() -> st.SearchStrategy[Any]:
    scalars = st.one_of(st.none(), st.booleans(), st.integers(-(2**70), 2**70), st.floats(allow_nan=False),
                        st.sampled_from(HOSTILE_PATHS), st.text(max_size=20))
    return st.recursive(scalars, lambda inner: st.one_of(st.lists(inner, max_size=4),
                                                        st.dictionaries(st.text(max_size=10), inner, max_size=4)),
                        max_leaves=12)


def _file_entry() -> st.SearchStrategy[dict[str, Any]]:
    link = st.fixed_dictionaries({k: st.one_of(st.sampled_from([*HOSTILE_PATHS, "fz", "a", "v1"]), _json_value())
                                  for k in ("project", "asset", "version", "path")})
    return st.fixed_dictionaries(
        {
            "type": st.sampled_from(["simple", "dedup", "link", "bogus", 3]),
            "path": st.one_of(st.sampled_from(HOSTILE_PATHS), _json_value()),
        },
        optional={
            "md5sum": st.one_of(st.just("d41d8cd98f00b204e9800998ecf8427e"), st.text(max_size=40), _json_value()),
            "size": st.one_of(st.integers(-5, 2**64), st.floats(allow_nan=True), _json_value()),
            "link": st.one_of(link, _json_value()),
        },
    )


def _body() -> st.SearchStrategy[bytes | None]:
    uploaders = st.lists(
        st.dictionaries(st.sampled_from(["id", "asset", "version", "until", "trusted"]), _json_value()), max_size=3
    )
    permissions = st.fixed_dictionaries({}, optional={"owners": _json_value(), "uploaders": uploaders})
    structured = st.one_of(
        st.fixed_dictionaries({"files": st.lists(_file_entry(), max_size=4)}, optional={"on_probation": _json_value()}),
        st.fixed_dictionaries(
            {}, optional={"permissions": st.one_of(_json_value(), permissions), "quota": _json_value()}
        ),
        _json_value(),
    )
    return st.one_of(st.none(), st.binary(max_size=64), structured.map(lambda v: json.dumps(v).encode()))


def _fill(template: str, segs: list[str]) -> str:
    """Put hostile segments into a route template's ``{param}`` slots."""
    it = iter(segs)
    return re.sub(r"\{[^}]+\}", lambda _: next(it, "x"), template)


def routes(url: str) -> list[tuple[str, str]]:
    spec = requests.get(f"{url}/openapi.json", timeout=30).json()
    out = [
        (m.upper(), path)
        for path, ops in spec["paths"].items()
        for m in ops
        if m.upper() in ("GET", "HEAD", "POST", "PUT", "DELETE")
    ]
    out += [("HEAD", p) for m, p in list(out) if m == "GET" and p.startswith("/file")]
    out += [("PATCH", "/file/{key}"), ("GET", "/{a}/{b}"), ("POST", "/upload/presigned-file/{a}/{b}")]
    return sorted(set(out))


def snapshot(area: Path, root: Path) -> dict[str, tuple[int, int]]:
    """Every path under ``area`` outside ``root``'s writable parts, with size and mtime; plus the
    symlinks anywhere under ``root`` (none may appear)."""
    out: dict[str, tuple[int, int]] = {}
    allowed = {root / "bucket", root / "staging", root / "state", root / "tmp"}
    for dirpath, dirnames, filenames in os.walk(area):
        d = Path(dirpath)
        dirnames[:] = [n for n in dirnames if d / n not in allowed]
        for name in dirnames + filenames:
            p = d / name
            st_ = p.lstat()
            out[str(p)] = (st_.st_size if not p.is_dir() else 0, st_.st_mtime_ns if not p.is_dir() else 0)
    for dirpath, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            p = Path(dirpath) / name
            if p.is_symlink():
                out[f"symlink {p}"] = (0, 0)
    return out


class Target:
    """Where the requests go, and the tokens they may carry (one live upload session included)."""

    def __init__(self, reg: Registry) -> None:
        self.reg = reg
        u = urlsplit(reg.url)
        self.host, self.port = u.hostname or "127.0.0.1", u.port or 80
        h = {"Authorization": f"Bearer {reg.admin_token}"}
        for project in ("fz", "fy"):
            requests.post(
                f"{reg.url}/create/{project}", headers=h, json={"permissions": {"owners": ["admin"]}}, timeout=30
            )
        upload = [{"type": "simple", "path": "x.txt", "md5sum": "d41d8cd98f00b204e9800998ecf8427e", "size": 0}]
        done = requests.post(f"{reg.url}/upload/start/fy/a/v1", headers=h, json={"files": upload}, timeout=30).json()
        requests.put(requests.post(reg.url + done["file_urls"][0]["url"], timeout=30, headers={
            "Authorization": f"Bearer {done['session_token']}"}).json()["url"], data=b"", timeout=30)
        requests.post(
            reg.url + done["complete_url"], headers={"Authorization": f"Bearer {done['session_token']}"}, timeout=30
        )
        r = requests.post(
            f"{reg.url}/upload/start/fz/a/live",
            headers=h,
            timeout=30,
            json={
                "files": [{"type": "simple", "path": "x.txt", "md5sum": "d41d8cd98f00b204e9800998ecf8427e", "size": 0}]
            },
        )
        r.raise_for_status()
        self.session = r.json()["session_token"]
        self.auths = [
            None,
            "Bearer",
            "Bearer ",
            "bearer x",
            "Basic YTpi",
            "Bearer \u00e9",
            f"Bearer {reg.admin_token}",
            f"Bearer {self.session}",
            "Bearer 00000000-0000-4000-8000-000000000000",
        ] + [f"Bearer {reg.admin_token}"] * 6

    def send(
        self, method: str, path: str, query: str, auth: str | None, body: bytes | None, extra: dict[str, str]
    ) -> int:
        conn = http.client.HTTPConnection(self.host, self.port, timeout=60)
        try:
            headers = dict(extra)
            if auth is not None:
                headers["Authorization"] = auth
            # Only what cannot go on the wire raw is percent-encoded (non-ASCII, spaces, controls).
            target = quote(path + (f"?{query}" if query else ""), safe="".join(map(chr, range(0x21, 0x7F))))
            conn.putrequest(method, target, skip_accept_encoding=True)
            for k, v in headers.items():
                conn.putheader(k, v.encode("utf-8"))
            if body is not None:
                conn.putheader("Content-Length", str(len(body)))
            conn.endheaders(body)
            resp = conn.getresponse()
            resp.read()
            return resp.status
        finally:
            conn.close()


def case_strategy(route_list: list[tuple[str, str]], target: Target) -> st.SearchStrategy[dict[str, Any]]:
    query = st.one_of(
        st.just(""),
        st.lists(
            st.tuples(
                st.sampled_from(["prefix", "recursive", "key", "md5", "expires", "lock", "sig", "x"]), _segment()
            ),
            max_size=5,
        ).map(lambda kv: "&".join(f"{k}={v}" for k, v in kv)),
    )
    extra = st.dictionaries(
        st.sampled_from(["Content-Type", "Content-MD5", "Range", "X-Forwarded-For"]),
        st.sampled_from(["application/json", "text/plain", "1B2M2Y8AsgTpgAmY7PhCfg==", "bytes=0-1", "junk", ""]),
        max_size=2,
    )
    return st.fixed_dictionaries({
        "route": st.sampled_from(route_list),
        "segs": st.lists(_segment(), min_size=4, max_size=4),
        "query": query,
        "auth": st.sampled_from(target.auths),
        "body": _body(),
        "extra": extra,
    })


def fuzz(reg: Registry, examples: int, seed_value: int = 0, strict: bool = True) -> dict[str, Any]:
    """Run ``examples`` hostile requests. ``strict``: fail (and shrink) on the first 5xx, as a test
    does; otherwise collect every 5xx and go on, as the bench does."""
    target = Target(reg)
    area = reg.root.parent
    before = snapshot(area, reg.root)
    route_list = routes(reg.url)
    problems: list[str] = []
    counts = {"requests": 0}
    statuses: dict[int, int] = {}

    @seed(seed_value)
    @settings(max_examples=examples, deadline=None, database=None, derandomize=False,
              suppress_health_check=list(HealthCheck))
    @given(case=case_strategy(route_list, target))
    def check(case: dict[str, Any]) -> None:
        method, template = case["route"]
        path = _fill(template, case["segs"])
        counts["requests"] += 1
        status = target.send(method, path, case["query"], case["auth"], case["body"], case["extra"])
        statuses[status] = statuses.get(status, 0) + 1
        if status >= 500:
            msg = f"{method} {path}?{case['query']} auth={case['auth']!r} body={case['body']!r:.200} -> {status}"
            if strict:
                raise AssertionError(msg)
            problems.append(msg)

    check()
    after = snapshot(area, reg.root)
    changed = sorted(k for k in set(before) | set(after) if before.get(k) != after.get(k)
                     and not k.endswith(".log"))  # the server's own log file grows, by design
    problems += [f"written outside the storage's areas: {k}" for k in changed]
    if reg.proc is None or reg.proc.poll() is not None:
        problems.append("the server died")
    created = sorted(p.name for p in (reg.root / "bucket").iterdir())
    return {"requests": counts["requests"], "routes": len(route_list), "statuses": dict(sorted(statuses.items())),
            "projects_created": len(created), "problems": problems}


def run_bench(base: Path, examples: int = 3000, seed: int = 1) -> dict[str, Any]:
    work = base / "fuzz"
    work.mkdir()
    reg = start_registry(work / "registry", extra_args=["--lock-ttl", "2"])
    try:
        out = fuzz(reg, examples, seed, strict=False)
    finally:
        reg.stop()
    print(f"   {out['requests']} requests over {out['routes']} routes, statuses {out['statuses']}, "
          f"{out['projects_created']} projects exist afterwards", flush=True)
    return out
