"""pktline: git's pkt-line framing, read and written over in-memory pipes."""

from __future__ import annotations

import io
from collections.abc import Iterator

import pytest

from selenite.errors import ProtocolError
from selenite.pktline import MAX_DATA, Wire


def pkt(data: bytes) -> bytes:
    return b"%04x" % (len(data) + 4) + data


def text(*lines: str) -> bytes:
    return b"".join(pkt(line.encode() + b"\n") for line in lines) + b"0000"


def wire(incoming: bytes) -> tuple[Wire, io.BytesIO]:
    out = io.BytesIO()
    return Wire(io.BytesIO(incoming), out), out


def test_packets_lists_fields_and_streams_are_read_back() -> None:
    w, _ = wire(pkt(b"one") + b"0000" + text("a", "b") + text("command=smudge", "pathname=x=y")
                + pkt(b"\x00\x01") + pkt(b"zz") + b"0000")
    assert w.read() == b"one"
    assert w.read() is None
    assert w.read_list() == ["a", "b"]
    assert w.read_fields() == {"command": "smudge", "pathname": "x=y"}  # only the first '=' splits
    assert list(w.read_stream()) == [b"\x00\x01", b"zz"]


def test_end_of_input_between_packets_is_eof_only_when_allowed() -> None:
    w, _ = wire(b"")
    with pytest.raises(EOFError):
        w.read_fields()
    w, _ = wire(b"")
    with pytest.raises(ProtocolError, match="middle of a packet"):
        w.read()


@pytest.mark.parametrize("incoming, reason", [
    (b"00", "middle of a packet"),           # a cut header
    (b"zzzz", "bad packet length b'zzzz'"),  # not hex
    (b"0004", "bad packet length 4"),        # empty data is not a packet
    (b"0003", "bad packet length 3"),
    (b"%04x" % (MAX_DATA + 5), "bad packet length"),  # over git's largest packet
    (pkt(b"abc")[:-1], "middle of a packet"),  # a cut body
])
def test_malformed_packets_are_protocol_errors(incoming: bytes, reason: str) -> None:
    w, _ = wire(incoming)
    with pytest.raises(ProtocolError, match=reason):
        w.read()


def test_a_field_without_equals_is_refused() -> None:
    w, _ = wire(text("command"))
    with pytest.raises(ProtocolError, match="expected key=value"):
        w.read_fields()


def test_a_list_cut_after_its_first_packet_is_an_error_not_eof() -> None:
    w, _ = wire(pkt(b"a\n"))
    with pytest.raises(ProtocolError):
        w.read_list(eof_ok=True)


def test_handshake_answers_version_2_and_only_the_capabilities_both_sides_have() -> None:
    w, out = wire(text("git-filter-client", "version=2") + text("capability=clean", "capability=smudge",
                                                                "capability=delay", "other"))
    w.handshake("git-filter", {"smudge", "clean", "process-only-we-know"})
    assert out.getvalue() == text("git-filter-server", "version=2") + text("capability=clean", "capability=smudge")


@pytest.mark.parametrize("greeting", [("git-other-client", "version=2"), ("git-filter-client", "version=3"), ()])
def test_handshake_refuses_a_wrong_greeting(greeting: tuple[str, ...]) -> None:
    w, _ = wire(text(*greeting))
    with pytest.raises(ProtocolError, match=r"git 2\.11 or later"):
        w.handshake("git-filter", {"smudge"})


def test_answer_splits_content_into_packets_of_at_most_max_data() -> None:
    w, out = wire(b"")
    w.answer([b"x" * (MAX_DATA + 10), b"", b"tail"])
    back = Wire(io.BytesIO(out.getvalue()), io.BytesIO())
    assert back.read_list() == ["status=success"]
    assert [len(p) for p in back.read_stream()] == [MAX_DATA, 10, 4]
    assert back.read_list() == []  # the final status list is empty: success stands


def test_a_failure_while_content_streams_ends_with_an_error_status(capsys: pytest.CaptureFixture[str]) -> None:
    def content() -> Iterator[bytes]:
        yield b"part"
        raise OSError("disk gone")

    w, out = wire(b"")
    w.answer(content())
    back = Wire(io.BytesIO(out.getvalue()), io.BytesIO())
    assert back.read_list() == ["status=success"]
    assert list(back.read_stream()) == [b"part"]
    assert back.read_list() == ["status=error"]
    assert "filter failed part way: disk gone" in capsys.readouterr().err


def test_answer_error() -> None:
    w, out = wire(b"")
    w.answer_error()
    assert out.getvalue() == text("status=error")
