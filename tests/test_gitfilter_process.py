"""The clean/smudge filter process (`python -m selenite.gitfilter`), in process: Git's side of the
long-running filter protocol is played over pkt-line pipes against a real cache."""

from __future__ import annotations

import hashlib
import io
from pathlib import Path

import pytest

from selenite.cache import Cache
from selenite.gitfilter import serve
from selenite.keys import key_for
from selenite.pktline import Wire
from selenite.tree.pointers import MAX_POINTER, parse_pointer, pointer


def pkt(data: bytes) -> bytes:
    return b"%04x" % (len(data) + 4) + data


def text(*lines: str) -> bytes:
    return b"".join(pkt(line.encode() + b"\n") for line in lines) + b"0000"


HANDSHAKE = text("git-filter-client", "version=2") + text("capability=clean", "capability=smudge")


def request(command: str, pathname: str, content: bytes) -> bytes:
    body = b"".join(pkt(content[i:i + 1000]) for i in range(0, len(content), 1000))
    return text(f"command={command}", f"pathname={pathname}") + body + b"0000"


def converse(cache: Cache, *requests: bytes) -> list[tuple[str, bytes, list[str]]]:
    """Run the filter over ``requests``; for each answer: (status, content, final status list)."""
    out = io.BytesIO()
    serve(Wire(io.BytesIO(HANDSHAKE + b"".join(requests)), out), cache)
    back = Wire(io.BytesIO(out.getvalue()), io.BytesIO())
    assert back.read_list() == ["git-filter-server", "version=2"]
    assert back.read_list() == ["capability=clean", "capability=smudge"]
    answers: list[tuple[str, bytes, list[str]]] = []
    for _ in requests:
        [status] = back.read_list()
        if status == "status=error":
            answers.append((status, b"", []))
            continue
        answers.append((status, b"".join(back.read_stream()), back.read_list()))
    return answers


@pytest.fixture
def cache(tmp_path: Path) -> Cache:
    return Cache(tmp_path / "cache")


def test_clean_stores_the_bytes_and_answers_a_pointer_smudge_gives_them_back(cache: Cache) -> None:
    data = b"x,y\n" * 5000
    [(status, ptr, final)] = converse(cache, request("clean", "d/data.csv", data))
    assert (status, final) == ("status=success", [])
    key = parse_pointer(ptr)
    assert key == key_for(hashlib.md5(data).hexdigest(), len(data), "data.csv")
    assert cache.ensure_local(key)
    [(status, back, _)] = converse(cache, request("smudge", "d/data.csv", ptr))
    assert (status, back) == ("status=success", data)


def test_a_pointer_is_cleaned_to_itself_and_data_smudges_to_itself(cache: Cache) -> None:
    ptr = pointer(key_for("0" * 32, 10, "a.bin"))
    small = b"not a pointer, just a short file\n"
    answers = converse(cache, request("clean", "a.bin", ptr), request("smudge", "b.txt", small),
                       request("smudge", "c.bin", b"z" * (MAX_POINTER * 50)))
    assert [a[1] for a in answers] == [ptr, small, b"z" * (MAX_POINTER * 50)]


def test_a_pointer_to_content_the_cache_lacks_stays_a_pointer(cache: Cache) -> None:
    ptr = pointer(key_for("1" * 32, 10, "a.bin"))
    [(status, back, _)] = converse(cache, request("smudge", "a.bin", ptr))
    assert (status, back) == ("status=success", ptr)


def test_a_file_git_reads_itself_passes_through_unchanged(cache: Cache) -> None:
    data = b"*.tmp\n" * 100
    [(_, back, _)] = converse(cache, request("clean", "sub/.gitignore", data))
    assert back == data


def test_an_unknown_command_fails_that_file_only(cache: Cache, capsys: pytest.CaptureFixture[str]) -> None:
    answers = converse(cache, request("delay", "a.txt", b"abc"), request("clean", "b.txt", b"fine\n"))
    assert answers[0][0] == "status=error" and answers[1][0] == "status=success"
    assert "selenite: delay filter failed for a.txt: unknown filter command 'delay'" in capsys.readouterr().err
