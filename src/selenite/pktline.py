"""Git's pkt-line framing, as its long-running filter protocol uses it (gitprotocol-common(5),
gitattributes(5) "Long Running Filter Process").

A packet is four hex digits giving its length (those four included) and then its data; ``0000``
is a flush packet that ends a list or a stream. Text packets end with a newline.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Iterator
from typing import BinaryIO

from selenite.errors import ProtocolError

MAX_DATA = 65516  # LARGE_PACKET_MAX (65520) less the 4-byte header


class Wire:
    """One end of a pkt-line conversation with Git (we are the server, Git the client)."""

    def __init__(self, rfile: BinaryIO, wfile: BinaryIO) -> None:
        self._r = rfile
        self._w = wfile

    # --- reading ---

    def _exact(self, n: int, eof_ok: bool = False) -> bytes:
        data = self._r.read(n)
        if len(data) == n:
            return data
        if eof_ok and not data:
            raise EOFError
        raise ProtocolError("git closed the pipe in the middle of a packet")

    def read(self, eof_ok: bool = False) -> bytes | None:
        """The next packet's data; None for a flush packet. ``EOFError`` when Git closed the pipe
        between packets and ``eof_ok``."""
        head = self._exact(4, eof_ok)
        try:
            n = int(head, 16)
        except ValueError:
            raise ProtocolError(f"bad packet length {head!r}") from None
        if n == 0:
            return None
        if n <= 4 or n > MAX_DATA + 4:
            raise ProtocolError(f"bad packet length {n}")
        return self._exact(n - 4)

    def read_list(self, eof_ok: bool = False) -> list[str]:
        """Text packets up to a flush, without their newlines."""
        out: list[str] = []
        while (pkt := self.read(eof_ok and not out)) is not None:
            out.append(pkt.rstrip(b"\n").decode("utf-8", "surrogateescape"))
        return out

    def read_fields(self) -> dict[str, str]:
        """A list of ``key=value`` packets (a request header); ``EOFError`` when Git is done."""
        fields: dict[str, str] = {}
        for line in self.read_list(eof_ok=True):
            name, sep, value = line.partition("=")
            if not sep:
                raise ProtocolError(f"expected key=value, got {line!r}")
            fields[name] = value
        return fields

    def read_stream(self) -> Iterator[bytes]:
        """Data packets up to a flush (consume it entirely before answering: Git writes all of it
        before it reads anything back)."""
        while (pkt := self.read()) is not None:
            yield pkt

    # --- writing ---

    def write(self, data: bytes) -> None:
        self._w.write(b"%04x" % (len(data) + 4))
        self._w.write(data)

    def write_text(self, line: str) -> None:
        self.write(line.encode() + b"\n")

    def flush(self) -> None:
        self._w.write(b"0000")
        self._w.flush()

    def handshake(self, role: str, capabilities: set[str]) -> None:
        """``<role>-client``/``version=2`` in, ``<role>-server``/``version=2`` out; then the
        capabilities Git offers, answered with those we have."""
        welcome = self.read_list()
        if welcome[:1] != [f"{role}-client"] or "version=2" not in welcome[1:]:
            raise ProtocolError(f"unexpected greeting {welcome!r} (this needs git 2.11 or later)")
        self.write_text(f"{role}-server")
        self.write_text("version=2")
        self.flush()
        offered = {line.removeprefix("capability=") for line in self.read_list() if line.startswith("capability=")}
        for cap in sorted(capabilities & offered):
            self.write_text(f"capability={cap}")
        self.flush()

    def answer(self, content: Iterable[bytes]) -> None:
        """``status=success``, the content, and the final (empty: unchanged) status list. A failure
        while the content streams is reported in that final list, as the protocol allows."""
        self.write_text("status=success")
        self.flush()
        failure: BaseException | None = None
        try:
            for block in content:
                for i in range(0, len(block), MAX_DATA):
                    self.write(block[i : i + MAX_DATA])
        except Exception as e:  # any failure must reach Git as an error status
            failure = e
        self.flush()
        if failure is not None:
            sys.stderr.write(f"selenite: filter failed part way: {failure}\n")
            self.write_text("status=error")
        self.flush()

    def answer_error(self) -> None:
        self.write_text("status=error")
        self.flush()
