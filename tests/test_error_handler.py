"""error_handler: every failure is one line on stderr and an exit code; bugs leave a private crash log."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from selenite.error_handler import REDACTED, error_handler, redact, secrets_of
from selenite.errors import FatalError


def run(exc: BaseException) -> int:
    with pytest.raises(SystemExit) as e, error_handler():
        raise exc
    assert isinstance(e.value.code, int)
    return e.value.code


def test_expected_failures_exit_1_with_their_message(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(FatalError("no such version \x1b[2K")) == 1
    assert capsys.readouterr().err == "selenite: error: no such version \\x1b[2K\n"


def test_ctrl_c_exits_130_and_a_closed_pipe_exits_1_quietly(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(KeyboardInterrupt()) == 130
    assert capsys.readouterr().err == "selenite: interrupted\n"
    assert run(BrokenPipeError()) == 1
    assert capsys.readouterr().err == ""


def test_nothing_happens_without_a_failure() -> None:
    with error_handler():
        pass


def test_a_bug_exits_3_with_one_line_and_its_traceback_in_a_private_log(
        capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("sys.argv", ["selenite", "push", "--token", "sel_abcdefgh12345"])
    assert run(ValueError("first line sel_abcdefgh12345\nsecond line")) == 3
    err = capsys.readouterr().err
    log = Path(os.environ["XDG_STATE_HOME"]) / "selenite" / "crash.log"
    assert err == f"selenite: unexpected ValueError: first line {REDACTED} (details in {log})\n"
    text = log.read_text()
    assert "Traceback" in text and "second line" in text and "sel_abcdefgh12345" not in text
    assert stat.S_IMODE(log.stat().st_mode) == 0o600 and stat.S_IMODE(log.parent.stat().st_mode) == 0o700


def test_a_bug_still_exits_3_when_no_log_can_be_written(capsys: pytest.CaptureFixture[str]) -> None:
    state = Path(os.environ["XDG_STATE_HOME"])
    state.parent.mkdir(parents=True, exist_ok=True)
    state.write_text("a file where the state folder should be\n")
    assert run(RuntimeError("boom")) == 3
    assert capsys.readouterr().err == "selenite: unexpected RuntimeError: boom\n"


def test_secrets_come_from_token_options_secret_looking_names_and_the_environment() -> None:
    argv = ["selenite", "--token", "tok-one", "--token=tok-two", "--api_key=k-three", "MY_PASSWORD=pw-four",
            "--token", "abc", "--verbose=yes-please", "--token"]
    env = {"SELENITE_TOKEN": "env-token", "AWS_SECRET_ACCESS_KEY": "aws-secret", "HOME": "/home/someone",
           "GITHUB_AUTH": "gh-auth-value"}
    assert secrets_of(argv, env) == {"tok-one", "tok-two", "k-three", "pw-four", "env-token", "aws-secret",
                                     "gh-auth-value"}  # "abc" is too short to blank out safely


def test_redact_hides_known_secrets_shapes_and_url_passwords() -> None:
    text = "tok-one in http://me:pa55word@host/x, ghp_abcdefgh1234, AKIAABCDEFGHIJKL, sel_tok_12345678, tok-one-longer"
    assert redact(text, {"tok-one", "tok-one-longer"}) == (
        f"{REDACTED} in http://me:{REDACTED}@host/x, {REDACTED}, {REDACTED}, {REDACTED}, {REDACTED}")
