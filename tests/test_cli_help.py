"""Every command's and subcommand's `--help` works (rich markup in help text once crashed two)."""

from __future__ import annotations

from typing import Any

import typer
from typer.testing import CliRunner

from selenite.cli import app


def _paths(cmd: Any, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    out = [prefix]
    for name, sub in getattr(cmd, "commands", {}).items():  # groups have subcommands
        out += _paths(sub, (*prefix, name))
    return out


def test_every_help_exits_0() -> None:
    root = typer.main.get_command(app)
    paths = _paths(root)
    assert ("serve",) in paths and ("token", "create") in paths and len(paths) > 15
    runner = CliRunner()
    for path in paths:
        result = runner.invoke(app, [*path, "--help"], prog_name="selenite")
        assert result.exit_code == 0 and result.exception is None, (path, result.output, result.exception)
        assert "Usage:" in result.output, path
        if path == ("serve",):
            assert "s3://BUCKET[/PREFIX]" in result.output.replace("\n", "")
