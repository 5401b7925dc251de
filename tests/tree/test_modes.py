"""Choosing a link mode: auto falls back in order and says so; an explicit refused mode is an error."""

from __future__ import annotations

import errno
from pathlib import Path

import pytest

from selenite.cache import Cache
from selenite.errors import FatalError
from selenite.tree import modes
from selenite.tree.layout import check_listing_for, layout_for


def test_check_requested() -> None:
    for m in ("symlink", "hardlink", "copy", "auto"):
        modes.check_requested(m)
    with pytest.raises(FatalError, match="expected symlink, hardlink, copy or auto"):
        modes.check_requested("reflink")


def test_choose(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    cache = Cache(tmp_path / "c")
    assert modes.choose(tmp_path, cache, "auto") == "symlink"
    assert modes.choose(tmp_path, cache, "copy") == "copy"

    def refuse(*_args: object, **_kwargs: object) -> None:
        raise OSError(errno.EPERM, "Operation not permitted")

    monkeypatch.setattr(modes.os, "symlink", refuse)
    assert modes.choose(tmp_path, cache, "auto") == "hardlink"
    assert "link mode auto: using hardlink (symlinks refused here" in capsys.readouterr().err
    with pytest.raises(FatalError, match="use --link-mode hardlink or copy"):
        modes.choose(tmp_path, cache, "symlink")
    monkeypatch.setattr(modes.os, "link", refuse)
    assert modes.choose(tmp_path, cache, "auto") == "copy"
    assert list(tmp_path.glob(".selenite-probe-*")) == []


def test_a_record_tree_cannot_hold_the_record_folder() -> None:
    check_listing_for("symlink", [".selenite/tree.json"], "p/a/v1")
    check_listing_for("auto", [".selenite/tree.json"], "p/a/v1")  # decided (and checked) later
    with pytest.raises(FatalError, match="clone it with --link-mode symlink"):
        check_listing_for("copy", ["ok", ".selenite/tree.json"], "p/a/v1")
    assert layout_for(Path("x"), "hardlink").files_as == "hard links"
