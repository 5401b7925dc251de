"""How long the pre-commit check and `selenite status` take on a large unchanged tree, against `git status`.

Builds a committed working tree of N links (default 100,000, each to its own object) straight with
the cache API (no server; the commit carries a version's trailers and the cache knows its listing,
as after `selenite clone`), then times, warm and as separate processes (what a user waits for):
`git status`, the installed hook's command (`python -m selenite.commands.check`), the same
check through the CLI (`selenite hook pre-commit`, what the pre-commit framework runs), and
`selenite status`. The targets (issue 15) are ratios of at most 3 (the hook) and 5 (status) to
`git status`, and status on 2,000 links within 0.3 s. Also prints the check alone, in process
(without Python's start-up and imports).

    .venv/bin/python bench/check_links.py [--links N] [--repeat R] [--keep DIR]

With --keep DIR the tree is built once and kept; a later run with the same DIR measures it again.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from selenite.cache import Cache, registry_id
from selenite.check.tree import check_tree
from selenite.keys import Key, object_relpath
from selenite.tree.links import ANCHOR

URL = "http://127.0.0.1:9"  # recorded as the tree's registry; nothing here contacts it
GIT_ENV = {"GIT_AUTHOR_NAME": "bench", "GIT_AUTHOR_EMAIL": "b@example.com",
           "GIT_COMMITTER_NAME": "bench", "GIT_COMMITTER_EMAIL": "b@example.com"}


def build(base: Path, n: int) -> tuple[Path, Path]:
    cache_dir, top = base / "cache", base / "tree"
    cache = Cache(cache_dir)
    top.mkdir()
    subprocess.run(["git", "init", "-q", str(top)], check=True)
    (top / ".git" / "selenite").mkdir()
    (top / ANCHOR).symlink_to(cache.objects)
    per_dir = 1000
    listing: dict[str, Key] = {}

    def one(i: int) -> None:
        data = b"row,%d\n" % i
        key = Key(hashlib.md5(data).hexdigest(), len(data), ".csv")
        cache.put_stream(key, [data])
        rel = f"d{i // per_dir:04d}/f{i:06d}.csv"
        listing[rel] = key
        link = top / rel
        link.symlink_to(os.path.relpath(top / ANCHOR / object_relpath(key), link.parent))

    for d in range((n + per_dir - 1) // per_dir):
        (top / f"d{d:04d}").mkdir()
    t = time.perf_counter()
    with ThreadPoolExecutor(4) as pool:
        for done, _ in enumerate(pool.map(one, range(n)), 1):
            if done % 10000 == 0:
                print(f"  {done} objects and links ({time.perf_counter() - t:.0f} s)", file=sys.stderr)
    env = {**os.environ, **GIT_ENV}
    subprocess.run(["git", "add", "-A"], cwd=top, check=True, env=env)
    message = f"bench\n\nSelenite-Registry: {URL}\nSelenite-Version: bench/links/v1\n"
    subprocess.run(["git", "commit", "-q", "-m", message], cwd=top, check=True, env=env)
    cache.set_ref(registry_id(URL), "bench", "links", "v1", cache.put_tree(listing))
    return top, cache_dir


def measure(cmds: dict[str, list[str]], cwd: Path, env: dict[str, str], repeat: int) -> dict[str, list[float]]:
    """Wall time of each command, ``repeat`` rounds, interleaved so that a busy moment of a shared
    machine hits every command alike."""
    times: dict[str, list[float]] = {name: [] for name in cmds}
    for _ in range(repeat):
        for name, cmd in cmds.items():
            t = time.perf_counter()
            proc = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, check=False)
            times[name].append(time.perf_counter() - t)
            if proc.returncode != 0:
                raise SystemExit(f"{' '.join(cmd)} exited {proc.returncode}: {proc.stderr.decode()[-500:]}")
    return times


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--links", type=int, default=100_000)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--keep", type=Path, help="build in (and keep) this folder")
    args = ap.parse_args()
    base = args.keep or Path(tempfile.mkdtemp(prefix="selenite-bench-"))
    base.mkdir(parents=True, exist_ok=True)
    if (base / "tree" / ".git").is_dir():  # a tree kept by an earlier run: measure it again
        top, cache_dir = base / "tree", base / "cache"
        args.links = int(
            subprocess.run(["git", "ls-files"], cwd=top, capture_output=True, text=True, check=False).stdout.count("\n")
        )
    else:
        print(f"building {args.links} links in {base} ...", file=sys.stderr)
        top, cache_dir = build(base, args.links)
    env = {**os.environ, "SELENITE_CACHE": str(cache_dir)}
    subprocess.run(["git", "status", "--porcelain"], cwd=top, env=env, capture_output=True, check=False)  # warm up
    subprocess.run([sys.executable, "-m", "selenite", "check"], cwd=top, env=env, capture_output=True, check=False)
    # The first command in a tree records its origin in git config: warm, as the user's tree is.
    subprocess.run([sys.executable, "-m", "selenite", "status"], cwd=top, env=env, capture_output=True, check=False)
    times = measure({
        "status": ["git", "status", "--porcelain"],
        "hook": [sys.executable, "-m", "selenite.commands.check"],  # what the installed hook runs
        "cli": [sys.executable, "-m", "selenite", "hook", "pre-commit"],  # what the framework runs
        "startup": [sys.executable, "-c", "import selenite.config, selenite.commands.check"],
        "sel_status": [sys.executable, "-m", "selenite", "status"],
    }, top, env, args.repeat)
    med = {k: statistics.median(v) for k, v in times.items()}
    best = {k: min(v) for k, v in times.items()}
    t = time.perf_counter()
    problems = check_tree(top, cache_dir)
    inproc = time.perf_counter() - t
    assert problems == [], problems[:3]
    print(f"links                          {args.links}")
    print(f"git status --porcelain         {med['status'] * 1000:6.0f} ms median  {best['status'] * 1000:6.0f} ms best")
    print(f"installed hook (check)         {med['hook'] * 1000:6.0f} ms median  {best['hook'] * 1000:6.0f} ms best"
          f"   (start-up + imports {best['startup'] * 1000:.0f} ms)")
    print(f"selenite hook pre-commit (CLI) {med['cli'] * 1000:6.0f} ms median  {best['cli'] * 1000:6.0f} ms best")
    print(f"selenite status (CLI)          {med['sel_status'] * 1000:6.0f} ms median  "
          f"{best['sel_status'] * 1000:6.0f} ms best")
    print(f"check_tree in process          {inproc * 1000:6.0f} ms")
    print(f"ratio hook / git status        {med['hook'] / med['status']:6.2f} median  "
          f"{best['hook'] / best['status']:6.2f} best   (target <= 3)")
    print(f"ratio status / git status      {med['sel_status'] / med['status']:6.2f} median  "
          f"{best['sel_status'] / best['status']:6.2f} best   (target <= 5)")
    if args.keep is None:
        subprocess.run(["chmod", "-R", "u+w", str(base)], check=False)
        subprocess.run(["rm", "-rf", str(base)], check=False)


if __name__ == "__main__":
    main()
