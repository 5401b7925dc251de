"""The long fault runs: kill -9 trials, concurrent clones, the server under load, malformed input
and a misbehaving registry, many more times than the quick checks in tests/faults do.

    .venv/bin/python bench/faults.py                  # everything, 30 kill trials of each kind
    .venv/bin/python bench/faults.py --trials 50 --seed 3 --only clone,push

Every part prints one line per trial or round and a summary; the exit code is 1 if any check
found a problem. Results of the last full run are in docs/develop/faults.md.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run as a script: make `tests` importable

from tests.faults import badproxy, faultlib, fuzz, loadgen
from tests.faults.faultlib import LOCK_TTL
from tests.support.env import isolated_environ
from tests.support.registry import start_registry

PARTS = ("clone", "push", "concurrent", "load", "fuzz", "badserver")


def isolate(base: Path) -> None:
    """What tests/conftest.py's autouse fixture does: no real home, git config or cache is touched."""
    env = isolated_environ(base, who="Fault Bench", email="bench@example.com")
    os.environ.clear()
    os.environ.update(env)


def run_part(name: str, fn: Callable[[], dict[str, object]], results: dict[str, object]) -> None:
    t = time.monotonic()
    print(f"== {name}", flush=True)
    try:
        out = fn()
    except Exception as e:  # a crash of the harness is a failure of the part, reported, not hidden
        out = {"problems": [f"the {name} part crashed: {type(e).__name__}: {e}"]}
    out["seconds"] = round(time.monotonic() - t, 1)
    results[name] = out
    print(f"== {name}: {len(out.get('problems', []))} problem(s) in {out['seconds']} s", flush=True)


def kill_clone_part(base: Path, trials: int, seed: int) -> dict[str, object]:
    work = base / "kclone"
    work.mkdir()
    reg = start_registry(work / "registry")
    try:
        expected = faultlib.seed_clone_source(reg, work)
        env = dict(os.environ)
        full = faultlib.timed(["clone", f"{faultlib.CLONE_PROJECT}/data@v1", work / "calibrate", "--url", reg.url],
                              work, {**env, "SELENITE_CACHE": str(work / "cal-cache")})
        print(f"   an uninterrupted clone takes {full:.2f} s", flush=True)
        out = []
        for i in range(trials):
            t = faultlib.kill_clone_trial(reg, work, seed * 1000 + i, expected, full * 1.1, env)
            print(f"   clone trial {i:2d} seed {t.seed} kill at {t.delay:5.2f} s killed={t.killed} "
                  f"{'OK' if not t.problems else t.problems}", flush=True)
            out.append(t)
    finally:
        reg.stop()
    return {"trials": len(out), "killed": sum(t.killed for t in out), "calibration_s": round(full, 2),
            "problems": [f"seed {t.seed} at {t.delay:.2f}s: {p}" for t in out for p in t.problems]}


def kill_push_part(base: Path, trials: int, seed: int) -> dict[str, object]:
    work = base / "kpush"
    work.mkdir()
    reg = start_registry(work / "registry", extra_args=["--lock-ttl", str(LOCK_TTL)])
    try:
        env = dict(os.environ)
        tree, _, _ = faultlib.prepare_push(reg, work, 0, env)
        full = faultlib.timed(["push", "--token", reg.admin_token, "-j", "2"], tree, env)
        print(f"   an uninterrupted push takes {full:.2f} s", flush=True)
        out = []
        for i in range(trials):
            t = faultlib.kill_push_trial(reg, work, seed * 1000 + i + 1, full * 1.1, env, LOCK_TTL)
            print(f"   push trial {i:2d} seed {t.seed} kill at {t.delay:5.2f} s killed={t.killed} "
                  f"{'OK ' + t.note if not t.problems else t.problems}", flush=True)
            out.append(t)
    finally:
        reg.stop()
    return {"trials": len(out), "killed": sum(t.killed for t in out), "calibration_s": round(full, 2),
            "problems": [f"seed {t.seed} at {t.delay:.2f}s: {p}" for t in out for p in t.problems]}


def concurrent_part(base: Path, rounds: int) -> dict[str, object]:
    work = base / "concurrent"
    work.mkdir()
    reg = start_registry(work / "registry")
    problems: list[str] = []
    try:
        expected = faultlib.seed_clone_source(reg, work)
        for r in range(rounds):
            env = {**os.environ, "SELENITE_CACHE": str(work / f"cache-{r}")}
            p = faultlib.concurrent_clones(reg, work, f"{faultlib.CLONE_PROJECT}/data@v1", expected, 8, env, tag=str(r))
            print(f"   round {r}: 8 clones {p if p else 'OK'}", flush=True)
            problems += p
    finally:
        reg.stop()
    return {"rounds": rounds, "clones": 8 * rounds, "problems": problems}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--trials", type=int, default=30, help="kill -9 trials of clone and of push (default 30)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--only", default=",".join(PARTS), help=f"comma-separated parts: {','.join(PARTS)}")
    ap.add_argument("--json", type=Path, help="also write the results here")
    args = ap.parse_args()
    parts = [p.strip() for p in args.only.split(",") if p.strip()]
    unknown = set(parts) - set(PARTS)
    if unknown:
        ap.error(f"unknown part(s): {', '.join(sorted(unknown))}")
    results: dict[str, object] = {}
    with tempfile.TemporaryDirectory(prefix="selenite-faults-") as d:
        base = Path(d)
        isolate(base)
        if "clone" in parts:
            run_part("kill -9 during clone", lambda: kill_clone_part(base, args.trials, args.seed), results)
        if "push" in parts:
            run_part("kill -9 during push", lambda: kill_push_part(base, args.trials, args.seed), results)
        if "concurrent" in parts:
            run_part("8 concurrent clones", lambda: concurrent_part(base, max(1, args.trials // 10)), results)
        if "load" in parts:
            run_part(
                "server under load",
                lambda: loadgen.run_bench(base, clients=16, requests_each=200, seed=args.seed),
                results,
            )
        if "fuzz" in parts:
            run_part("malformed input", lambda: fuzz.run_bench(base, examples=3000, seed=args.seed), results)
        if "badserver" in parts:
            run_part(
                "misbehaving registry", lambda: badproxy.run_bench(base, rounds=max(1, args.trials // 10)), results
            )
    bad = sum(len(r.get("problems", [])) for r in results.values() if isinstance(r, dict))
    print(json.dumps(results, indent=2, default=str))
    if args.json:
        args.json.write_text(json.dumps(results, indent=2, default=str))
    return 1 if bad else 0


if __name__ == "__main__":
    raise SystemExit(main())
