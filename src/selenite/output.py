"""Where user-facing text goes: results on stdout, diagnostics on stderr, progress on a terminal only."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.progress import BarColumn, Progress, ProgressColumn, Task, TaskID, TextColumn, TimeRemainingColumn
from rich.text import Text

_err = Console(stderr=True, highlight=False, soft_wrap=True)


def printable(text: str) -> str:
    """``text`` with every character a terminal would act on or hide escaped as ``\\x1b``,
    ``\\u202e``: control characters (C0, DEL, C1), and format, separator (but the plain space) and
    unassigned code points (bidi overrides, zero-width characters). Names, paths and reasons from a
    registry or a commit pass here before they are shown, so they cannot rewrite or hide lines."""
    if text.isprintable():
        return text
    out = []
    for c in text:
        if c.isprintable() or c == " ":
            out.append(c)
        else:
            o = ord(c)
            out.append(f"\\x{o:02x}" if o < 0x100 else f"\\u{o:04x}" if o < 0x10000 else f"\\U{o:08x}")
    return "".join(out)


def human_bytes(n: float) -> str:
    """A size in binary units, as every summary and progress bar prints it (``7.0 MiB``)."""
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if abs(n) < 1024 or unit == "TiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    raise AssertionError("unreachable")


def write(text: str = "") -> None:
    """A result line on stdout (what scripts parse)."""
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


def info(text: str) -> None:
    """A human note on stderr (never mixed into stdout results)."""
    _err.print(printable(text), markup=False)


def error(text: str) -> None:
    """One line on stderr, unprintable characters escaped (it often quotes a registry)."""
    sys.stderr.write(printable(text.rstrip("\n")) + "\n")
    sys.stderr.flush()


def is_terminal() -> bool:
    return sys.stderr.isatty()


class Transfer:
    """Progress of a batch of files: files done, bytes, rate. Silent when stderr is not a terminal."""

    def __init__(self, progress: Progress | None, files_task: TaskID | None, bytes_task: TaskID | None) -> None:
        self._p, self._files, self._bytes = progress, files_task, bytes_task

    def advance_bytes(self, n: int) -> None:
        if self._p is not None and self._bytes is not None:
            self._p.advance(self._bytes, n)

    def file_done(self) -> None:
        if self._p is not None and self._files is not None:
            self._p.advance(self._files, 1)


class _Amount(ProgressColumn):
    """``9/10 files`` on the files row; ``7.0/30.0 MiB`` on the bytes row (binary units, as the
    summaries print them)."""

    def render(self, task: Task) -> Text:
        done, total = task.completed, task.total or 0
        if task.fields.get("unit") == "bytes":
            return Text(f"{human_bytes(done)}/{human_bytes(total)}", style="progress.download")
        return Text(f"{int(done)}/{int(total)} files", style="progress.download")


class _Rate(ProgressColumn):
    """Bytes per second on the bytes row only (a file count has no byte rate)."""

    def render(self, task: Task) -> Text:
        if task.fields.get("unit") != "bytes" or not task.speed:
            return Text("")
        return Text(f"{human_bytes(task.speed)}/s", style="progress.data.speed")


@contextmanager
def transfer(label: str, files: int, total_bytes: int) -> Iterator[Transfer]:
    """A two-line progress display (files, then bytes with rate) for long transfers."""
    if not is_terminal() or files == 0:
        yield Transfer(None, None, None)
        return
    progress = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        _Amount(),
        _Rate(),
        TimeRemainingColumn(),
        console=_err,
        transient=False,
    )
    with progress:
        ft = progress.add_task(f"{label} files", total=files, unit="files")
        bt = progress.add_task(f"{label} bytes", total=total_bytes, unit="bytes")
        yield Transfer(progress, ft, bt)
