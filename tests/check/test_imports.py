"""The hook runs on every commit: its path must not import rich (the CLI's output) or sqlite3 (the
cache's database) when the tree is clean and the stamp vouches for it."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from selenite.check.tree import check_tree
from tests.check.trees import make_tree, settings

_PROBE = """
import sys
from selenite import config
from selenite.commands import check
code = check.pre_commit(config.load())
heavy = sorted(m for m in ("rich", "sqlite3", "_sqlite3", "typer", "filelock") if m in sys.modules)
print(code, ",".join(heavy))
"""


def _unmeasured() -> dict[str, str]:
    """This environment without coverage's subprocess measuring (pytest's default): coverage keeps
    its data in sqlite, which would load sqlite3 into the probe."""
    return {k: v for k, v in os.environ.items() if not k.startswith("COVERAGE_")}


def test_a_clean_check_imports_neither_rich_nor_sqlite(tmp_path: Path) -> None:
    top, _ = make_tree(tmp_path, {f"d/f{i}.txt": b"row %d\n" % i for i in range(5)})
    time.sleep(2.1)  # objects older than the stamp's safety margin, as in real use
    assert check_tree(top, settings().cache_dir) == []  # writes the stamp
    proc = subprocess.run([sys.executable, "-c", _PROBE], cwd=top, capture_output=True, text=True,
                          env={**_unmeasured(), "PYTHONWARNINGS": "ignore"}, check=True)
    assert proc.stdout.split("\n")[0] == "0 "  # passed, and none of the heavy modules loaded


def test_importing_the_hook_entry_point_is_light() -> None:
    probe = ("import sys, selenite.commands.check; "
             "print(sorted(m for m in ('rich', 'sqlite3', 'typer') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True,
                         env=_unmeasured()).stdout
    assert out.strip() == "[]"


def test_import_selenite_loads_the_api_only_when_used() -> None:
    """Every `selenite.x` import runs selenite/__init__.py (the hook, the filter, the CLI): it names the
    Python API but loads it, and typing, on first use only."""
    probe = ("import sys, selenite; before = sorted(m for m in sys.modules if m.startswith('selenite.') "
             "or m == 'typing'); selenite.clone; "
             "print(before, 'selenite.api.tree' in sys.modules, selenite.clone is selenite.api.tree.clone)")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True,
                         env=_unmeasured()).stdout
    assert out.strip() == "[] True True"
