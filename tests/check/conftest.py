from __future__ import annotations

from pathlib import Path

import pytest

from selenite.cache import Cache
from tests.check.trees import make_tree


@pytest.fixture
def tree(tmp_path: Path) -> tuple[Path, Cache]:
    return make_tree(tmp_path, {"a.csv": b"x,y\n1,2\n", "data/b.txt": b"hello\n", "data/c.bin": b"\x00" * 100})
