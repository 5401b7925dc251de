"""registry.answers: a registry's answers are read bounded, and refusals shown as one short line."""

from __future__ import annotations

import io

import requests

from selenite.registry.answers import error_body, is_upload_start, read_capped, reason


def _response(body: bytes, content_type: str = "application/json", why: str = "Bad Request") -> requests.Response:
    resp = requests.Response()
    resp.raw = io.BytesIO(body)
    resp.headers["content-type"] = content_type
    resp.reason = why
    return resp


def test_read_capped_stops_past_the_limit() -> None:
    assert read_capped(_response(b"x" * 10), 10) == (b"x" * 10, False)
    assert read_capped(_response(b"x" * 11), 10) == (b"", True)


def test_reason_is_the_json_reason_else_the_first_line() -> None:
    assert reason(_response(b'{"status": "error", "reason": "no such project"}')) == "no such project"
    assert reason(_response(b"proxy says no\nmore\n", "text/plain")) == "proxy says no"
    assert reason(_response(b"", "text/plain", "Forbidden")) == "Forbidden"
    assert reason(_response(b'{"reason": "\\u001b[31mred"}')) == repr("\x1b[31mred")  # never raw escapes
    assert reason(_response(b"y" * 1000, "text/plain")) == "y" * 200
    assert reason(_response(b"y" * 100_000, "text/plain")) == "Bad Request"  # past REASON_MAX: not read


def test_a_200_error_body_is_a_refusal() -> None:
    assert error_body(_response(b""), {"status": "error", "reason": "quota"}) == "quota"
    assert error_body(_response(b"", "text/plain"), {"status": "error"}) is None
    assert error_body(_response(b""), {"status": "ok"}) is None


def test_upload_start_shape() -> None:
    good = {"session_token": "t", "complete_url": "/c", "abort_url": "/a", "file_urls": [{"path": "p", "url": "/u"}]}
    assert is_upload_start(good)
    assert not is_upload_start({**good, "file_urls": [{"path": "p"}]})
    assert not is_upload_start({**good, "abort_url": 3})
    assert not is_upload_start([good])
