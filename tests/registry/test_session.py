"""``translating()``: the one place requests' exceptions become one-line ``RegistryError``s."""

from __future__ import annotations

import pytest
import requests

from selenite.errors import RegistryError, Unreachable
from selenite.registry.session import make_session, translating

URL = "http://registry.example"


@pytest.mark.parametrize(
    ("exc", "kind", "message"),
    [
        (requests.ConnectionError("Failed to establish a new connection: refused"), Unreachable,
         f"cannot reach the registry at {URL} (listing of /): refused"),
        (requests.ConnectTimeout("slow"), Unreachable, f"cannot reach the registry at {URL} (listing of /): slow"),
        (requests.ReadTimeout("slow"), Unreachable, f"the registry at {URL} timed out (listing of /)"),
        (requests.exceptions.RetryError("too many 503"), RegistryError,
         "registry failed listing of /: gave up after retries (too many 503)"),
        (requests.exceptions.InvalidURL("bad"), RegistryError, "registry request failed (listing of /): bad"),
    ],
)
def test_sending(exc: Exception, kind: type[RegistryError], message: str) -> None:
    with pytest.raises(kind) as e, translating("listing of /", URL):
        raise exc
    assert type(e.value) is kind and str(e.value) == message


def test_unreachable_keeps_the_innermost_reason() -> None:
    with pytest.raises(Unreachable) as e, translating("upload of x", URL):
        raise requests.ConnectionError("(Caused by 'refused')")
    assert e.value.detail == "refused"


@pytest.mark.parametrize("exc", [requests.exceptions.ChunkedEncodingError("cut"), ConnectionResetError("cut")])
def test_reading_an_answer_that_breaks_off(exc: Exception) -> None:
    with pytest.raises(RegistryError) as e, translating("download of p/a/v/x"):
        raise exc
    assert str(e.value) == "download of p/a/v/x broke off: cut"


def test_a_local_failure_while_sending_is_not_the_registrys() -> None:
    with pytest.raises(PermissionError), translating("upload of x", URL):
        raise PermissionError("cannot read the file")


def test_other_errors_pass_untouched() -> None:
    with pytest.raises(RegistryError, match="already one"), translating("x", URL):
        raise RegistryError("already one")


def test_session_reuses_environment_settings_per_host() -> None:
    s = make_session()
    a = s.merge_environment_settings(f"{URL}/a", None, True, None, None)
    a["proxies"]["http"] = "changed by a caller"
    b = s.merge_environment_settings(f"{URL}/b", None, True, None, None)
    assert b["proxies"].get("http") != "changed by a caller"
    assert len(s._env_settings) == 1  # one lookup per host
