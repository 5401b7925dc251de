"""Run a list of transfer tasks on a thread pool, stopping all of them at the first failure.

Shared by downloads (``transfer``) and uploads (``pushfiles``). Kept out of ``util``: the hook
imports ``util`` and must not pay for ``concurrent.futures``.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor, wait
from typing import Any


def run_all(tasks: Sequence[tuple[Callable[[Any], None], Any]], jobs: int, stop: threading.Event, name: str) -> None:
    """Run ``fn(arg)`` for every task on ``jobs`` threads. The first exception (or Ctrl-C) sets
    ``stop`` (running tasks check it at their next chunk), cancels what has not started, waits for
    the rest and is raised."""
    pool = ThreadPoolExecutor(max_workers=max(1, jobs), thread_name_prefix=name)
    try:
        futures = [pool.submit(fn, arg) for fn, arg in tasks]
        done, _ = wait(futures, return_when=FIRST_EXCEPTION)
        for f in done:
            if (exc := f.exception()) is not None:
                raise exc
    except BaseException:
        stop.set()
        pool.shutdown(wait=True, cancel_futures=True)
        raise
    pool.shutdown(wait=True)
