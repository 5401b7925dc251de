"""Where user-facing text goes: results on stdout, diagnostics on stderr, progress on a terminal only.

rich is imported only when a progress display starts (``progressbar``): importing it costs every
command ~25 ms, and notes are plain lines on stderr. While a display is live, notes go through its
console, so they print above the bars instead of through them.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rich.console import Console
    from rich.progress import Progress, TaskID

_live: Console | None = None  # the console of the progress display on screen, if any

ProgressHook = Callable[[str, int, int], None]
"""Called as ``hook(label, bytes_done, bytes_total)`` while a transfer runs (``label``: ``"download"``,
``"push"``), from any thread of the transfer."""

# How transfers report, set by the Python API for one call (``showing``): None, the CLI's bars on a
# terminal; False, nothing (no notes either); a hook, that hook instead of the bars.
_progress: ContextVar[ProgressHook | bool | None] = ContextVar("selenite_progress", default=None)


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
    """A human note on stderr (never mixed into stdout results; none while the API runs silent)."""
    if _progress.get() is False:
        return
    if _live is not None:
        _live.print(printable(text), markup=False, emoji=False, highlight=False, soft_wrap=True)
        return
    sys.stderr.write(printable(text) + "\n")
    sys.stderr.flush()


def error(text: str) -> None:
    """One line on stderr, unprintable characters escaped (it often quotes a registry)."""
    sys.stderr.write(printable(text.rstrip("\n")) + "\n")
    sys.stderr.flush()


def is_terminal() -> bool:
    return sys.stderr.isatty()


@contextmanager
def showing(progress: ProgressHook | bool | None) -> Iterator[None]:
    """Transfers inside report to ``progress`` (None: bars on a terminal; False: silent, notes
    included; else a hook)."""
    reset = _progress.set(progress)
    try:
        yield
    finally:
        _progress.reset(reset)


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


@contextmanager
def transfer(label: str, files: int, total_bytes: int) -> Iterator[Transfer]:
    """A two-line progress display (files, then bytes with rate) for long transfers."""
    hook = _progress.get()
    if callable(hook):
        yield _Hooked(hook, label, total_bytes)
        return
    if hook is False or not is_terminal() or files == 0:
        yield Transfer(None, None, None)
        return
    global _live  # noqa: PLW0603 -- one terminal, one live display at a time
    from selenite import progressbar  # noqa: PLC0415 -- rich, only when bars are shown (see the module docstring)

    progress = progressbar.transfer_progress(human_bytes)
    with progress:
        ft = progress.add_task(f"{label} files", total=files, unit="files")
        bt = progress.add_task(f"{label} bytes", total=total_bytes, unit="bytes")
        _live = progress.console
        try:
            yield Transfer(progress, ft, bt)
        finally:
            _live = None


class _Hooked(Transfer):
    """Progress told to a caller's hook: bytes so far (summed over the transfer's threads) and the total."""

    def __init__(self, hook: ProgressHook, label: str, total: int) -> None:
        super().__init__(None, None, None)
        self._hook, self._label, self._total, self._done = hook, label, total, 0
        self._lock = threading.Lock()

    def advance_bytes(self, n: int) -> None:
        with self._lock:
            self._done += n
            done = self._done
        self._hook(self._label, done, self._total)
