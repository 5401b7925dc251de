"""The progress display of long transfers (rich), imported by ``output.transfer`` only when it shows one.

Sizes are written by the caller's ``size_text`` (``output.human_bytes``), so every summary and bar
prints them alike; this module imports nothing of selenite's (``output`` imports it).
"""

from __future__ import annotations

from collections.abc import Callable

from rich.console import Console
from rich.progress import BarColumn, Progress, ProgressColumn, Task, TextColumn, TimeRemainingColumn
from rich.text import Text


class _Amount(ProgressColumn):
    """``9/10 files`` on the files row; ``7.0/30.0 MiB`` on the bytes row."""

    def __init__(self, size_text: Callable[[float], str]) -> None:
        super().__init__()
        self._size = size_text

    def render(self, task: Task) -> Text:
        done, total = task.completed, task.total or 0
        if task.fields.get("unit") == "bytes":
            return Text(f"{self._size(done)}/{self._size(total)}", style="progress.download")
        return Text(f"{int(done)}/{int(total)} files", style="progress.download")


class _Rate(ProgressColumn):
    """Bytes per second on the bytes row only (a file count has no byte rate)."""

    def __init__(self, size_text: Callable[[float], str]) -> None:
        super().__init__()
        self._size = size_text

    def render(self, task: Task) -> Text:
        if task.fields.get("unit") != "bytes" or not task.speed:
            return Text("")
        return Text(f"{self._size(task.speed)}/s", style="progress.data.speed")


def transfer_progress(size_text: Callable[[float], str]) -> Progress:
    """Two rows (files, then bytes with rate) on stderr; the caller adds the tasks."""
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        _Amount(size_text),
        _Rate(size_text),
        TimeRemainingColumn(),
        console=Console(stderr=True, highlight=False, soft_wrap=True),
        transient=False,
    )
