"""statsig: signatures, the racily-clean rule and backdating, on real files."""

from __future__ import annotations

import os
import time
from pathlib import Path

from selenite import statsig
from selenite.statsig import StatSig


def test_a_signature_follows_every_write(tmp_path: Path) -> None:
    f = tmp_path / "f"
    f.write_bytes(b"abcd")
    st = os.stat(f)
    assert statsig.unchanged(st, StatSig.of(st))
    f.write_bytes(b"efgh")  # same size
    assert not statsig.unchanged(os.stat(f), StatSig.of(st))
    assert not statsig.unchanged(st, None)


def test_a_write_that_restores_mtime_still_changes_the_signature(tmp_path: Path) -> None:
    f = tmp_path / "obj"
    f.write_bytes(b"abcd")
    st = os.stat(f)
    sig = StatSig.of(st)
    time.sleep(0.05)  # past the kernel's coarse ctime tick
    with open(f, "r+b") as out:
        out.write(b"wxyz")  # same size
    os.utime(f, ns=(st.st_atime_ns, st.st_mtime_ns))  # mtime set back: only ctime tells
    assert os.stat(f).st_mtime_ns == st.st_mtime_ns
    assert not statsig.unchanged(os.stat(f), sig)


def test_racily_clean_files_are_not_recordable(tmp_path: Path) -> None:
    f = tmp_path / "f"
    f.write_bytes(b"abcd")
    st = os.stat(f)
    taken = statsig.now()
    assert statsig.is_racy(st, taken)  # just written
    assert not statsig.recordable(st, os.stat(f), taken)
    old = time.time_ns() - 10 * 10**9
    os.utime(f, ns=(old, old))
    st = os.stat(f)
    assert statsig.recordable(st, os.stat(f), statsig.now())
    f.write_bytes(b"efgh")
    assert not statsig.recordable(st, os.stat(f), statsig.now())  # changed between the stats


def test_backdate_makes_a_fresh_file_recordable_and_keeps_old_ones(tmp_path: Path) -> None:
    f = tmp_path / "f"
    f.write_bytes(b"abcd")
    statsig.backdate(f)
    assert not statsig.is_racy(os.stat(f), statsig.now())
    before = os.stat(f)
    statsig.backdate(f)  # already old enough: untouched (no ctime bump)
    assert os.stat(f).st_ctime_ns == before.st_ctime_ns and os.stat(f).st_mtime_ns == before.st_mtime_ns
