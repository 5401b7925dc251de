"""Benchmarks of selenite against gypsum_client (and curl, md5sum, git status), on one registry.

    .venv/bin/python bench/run.py            # the full run (about 8 minutes); writes docs/develop/benchmarks.md
    .venv/bin/python bench/run.py --quick    # smaller datasets, 3 runs each (about 3 minutes)
    .venv/bin/python bench/run.py --only clone-small,push --out /tmp/b.md

One `selenite serve` process on a free 127.0.0.1 port over a tmp folder serves every case; the
transfer cases (cases.ON_EVERY_BACKEND) run again against one over an S3 bucket of a local
SeaweedFS (``--backends folder`` skips that). Each case
alternates selenite and its peer run by run, prints medians and ratios, and the report gives each
figure with its target, met or missed, the exact command, and the machine.
"""

from __future__ import annotations

import argparse
import compileall
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run as a script: make `bench`, `tests` importable

from tests.support import s3server
from tests.support.registry import BACKENDS, Registry

from bench import benchlib as B
from bench import cases, report, seed

ROOT = Path(__file__).resolve().parent.parent


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="smaller datasets (under ~3 minutes)")
    ap.add_argument("--only", help=f"comma-separated cases among: {', '.join(cases.ALL)}")
    ap.add_argument("--out", type=Path, help="report file (default: docs/develop/benchmarks.md for a full run of every "
                    "case; a quick or partial run writes no report unless given one)")
    ap.add_argument("--backends", default=",".join(BACKENDS),
                    help="storage backends to run the transfer cases on (other cases: the folder only)")
    ap.add_argument("--keep", action="store_true", help="keep the tmp folder (registry, datasets) afterwards")
    args = ap.parse_args()
    names = list(cases.ALL) if not args.only else [n.strip() for n in args.only.split(",") if n.strip()]
    unknown = [n for n in names if n not in cases.ALL]
    if unknown:
        ap.error(f"unknown case(s): {', '.join(unknown)}")
    out = args.out
    if out is None and not args.quick and not args.only:
        out = ROOT / "docs" / "develop" / "benchmarks.md"

    backends = [b.strip() for b in args.backends.split(",") if b.strip()]
    if not backends or any(b not in BACKENDS for b in backends):
        ap.error(f"--backends: among {', '.join(BACKENDS)}")
    sizes = cases.Sizes.quick() if args.quick else cases.Sizes()
    # A regular `pip install` compiles every module, as it did gypsum_client's; an editable install
    # of selenite (and an environment with PYTHONDONTWRITEBYTECODE set) would otherwise recompile
    # selenite's sources in every command the bench times.
    compileall.compile_dir(ROOT / "src" / "selenite", quiet=1)
    base = Path(tempfile.mkdtemp(prefix="selenite-bench-"))
    started = time.monotonic()
    load_start = os.getloadavg()
    print(f"bench folder {base}", flush=True)
    rows: list[cases.Row] = []
    try:
        for backend in backends:
            todo = [n for n in names if backend == "folder" or n in cases.ON_EVERY_BACKEND]
            if todo:
                rows += _run_on(backend, base / backend, todo, sizes)
    finally:
        if "s3" in backends:
            s3server.stop_shared()
        if not args.keep:
            B.rm_tree(base)
    elapsed = time.monotonic() - started
    machine = B.machine()
    # Other processes share the 2 cores: their load is part of the context of every figure.
    machine["load average at start / end"] = " / ".join(
        f"{a:.1f}, {b:.1f}, {c:.1f}" for a, b, c in (load_start, os.getloadavg())
    )
    text = report.render(rows, machine, quick=args.quick, elapsed=elapsed,
                         command="  ".join(["python bench/run.py", *sys.argv[1:]]))
    print()
    print(report.table(rows))
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(text)
        print(f"\nwrote {out}")
    print(f"total {elapsed / 60:.1f} min")
    return 0 if all(r.met is not False for r in rows) else 1


def _run_on(backend: str, base: Path, names: list[str], sizes: cases.Sizes) -> list[cases.Row]:
    """The cases on one `selenite serve` over ``backend``; rows of a backend other than the folder
    say which in their case name."""
    base.mkdir(parents=True)
    server = Registry.for_backend(backend, root=base / "registry", admins=[B.ADMIN])
    (base / "registry").mkdir()
    server.admin_token = server.token(B.ADMIN)
    server.start()
    print(f"registry {server.url} ({backend} backend, pid {server.pid})", flush=True)
    try:
        env = B.Env(base, server.url, server.admin_token)
        seed.create_project(server.url, server.admin_token, B.ADMIN)
        ctx = cases.Ctx(server=server, env=env, base=base, sizes=sizes)
        for name in names:
            t = time.monotonic()
            cases.ALL[name](ctx)
            print(f"  ({name}, {backend}: {time.monotonic() - t:.0f} s)", flush=True)
    finally:
        server.stop()
    if backend != "folder":
        for row in ctx.rows:
            row.case += f" ({backend.upper()} backend)"
    return ctx.rows


if __name__ == "__main__":
    raise SystemExit(main())
