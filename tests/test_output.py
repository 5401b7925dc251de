"""output: results on stdout, one-line diagnostics on stderr, a progress display on a terminal only."""

from __future__ import annotations

import contextlib
import io
import os
import pty
import sys
import time
from collections.abc import Iterator

import pytest

from selenite import output


@contextlib.contextmanager
def terminal() -> Iterator[io.FileIO]:
    """stderr on a real pseudo-terminal; yields the other end to read what was shown. (Entered in
    the test itself: pytest puts its own capture back on sys.stderr between fixture set-up and call.)"""
    leader, follower = pty.openpty()
    reader = io.FileIO(leader, "r")
    with open(follower, "w") as tty, pytest.MonkeyPatch.context() as mp:
        mp.setattr(sys, "stderr", tty)
        mp.setenv("COLUMNS", "100")
        try:
            yield reader
        finally:
            tty.flush()
    reader.close()


def shown(reader: io.FileIO) -> str:
    """Everything written to the terminal so far (the follower is flushed by the caller)."""
    os.set_blocking(reader.fileno(), False)
    chunks = []
    while True:
        try:
            data = reader.read(65536)
        except OSError:  # EIO once the follower side has nothing more
            break
        if not data:
            break
        chunks.append(data)
    return b"".join(chunks).decode(errors="replace")


@pytest.mark.parametrize("text, escaped", [
    ("plain name.csv", "plain name.csv"),
    ("tab\there", "tab\\x09here"),
    ("bidi\u202eevil", "bidi\\u202eevil"),
    ("zero\u200bwidth", "zero\\u200bwidth"),
    ("c1\x85del\x7f", "c1\\x85del\\x7f"),
    ("nbsp\u00a0", "nbsp\\xa0"),
    ("astral\U000e0001", "astral\\U000e0001"),
])
def test_printable_escapes_what_a_terminal_would_act_on(text: str, escaped: str) -> None:
    assert output.printable(text) == escaped


def test_results_go_to_stdout_and_notes_and_errors_to_stderr(capsys: pytest.CaptureFixture[str]) -> None:
    output.write("result")
    output.write()
    output.info("note [bold]not markup[/bold] \x1b[2K")
    output.error("oops\n")
    out, err = capsys.readouterr()
    assert out == "result\n\n"
    assert err == "note [bold]not markup[/bold] \\x1b[2K\noops\n"


def test_no_progress_display_when_stderr_is_not_a_terminal(capsys: pytest.CaptureFixture[str]) -> None:
    assert not output.is_terminal()
    with output.transfer("get", 3, 300) as t:
        t.advance_bytes(100)
        t.file_done()
    assert capsys.readouterr().err == ""


def test_on_a_terminal_the_progress_shows_files_bytes_and_rate() -> None:
    with terminal() as screen_end:
        assert output.is_terminal()
        with output.transfer("get", 2, 3 * 1024 * 1024) as t:
            t.advance_bytes(1024 * 1024)
            time.sleep(0.05)  # two samples apart in time give a rate
            t.advance_bytes(2 * 1024 * 1024)
            t.file_done()
            t.file_done()
        sys.stderr.flush()
        screen = shown(screen_end)
    assert "get files" in screen and "2/2 files" in screen
    assert "get bytes" in screen and "3.0 MiB/3.0 MiB" in screen and "MiB/s" in screen


def test_an_empty_batch_shows_nothing_even_on_a_terminal() -> None:
    with terminal() as screen_end:
        with output.transfer("get", 0, 0) as t:
            t.advance_bytes(0)
            t.file_done()
        sys.stderr.flush()
        assert shown(screen_end) == ""


@pytest.mark.parametrize("n, text", [(0, "0 B"), (1023, "1023 B"), (1536, "1.5 KiB"), (5 << 20, "5.0 MiB"),
                                     (3 << 30, "3.0 GiB"), (2 << 50, "2048.0 TiB"), (-2048, "-2.0 KiB")])
def test_human_bytes(n: int, text: str) -> None:
    assert output.human_bytes(n) == text
