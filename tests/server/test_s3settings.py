"""S3 settings resolved by the command line (server/storage/s3settings.py) and the factory's refusals."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from selenite.server.errors import SetupError
from selenite.server.storage.factory import open_storage
from selenite.server.storage.s3settings import S3Settings


def test_defaults_follow_the_endpoint() -> None:
    assert S3Settings().checksum_mode() == "when_required"
    assert S3Settings().addressing_style() == "auto"  # AWS
    assert S3Settings(endpoint="http://127.0.0.1:8333").addressing_style() == "path"  # a clone
    assert S3Settings(addressing=" virtual ", checksums="when_supported").addressing_style() == "virtual"
    assert S3Settings(checksums="  ").checksum_mode() == "when_required"  # an exported but empty variable
    assert S3Settings(public_endpoint=" ").presign_endpoint() is None
    assert S3Settings(public_endpoint="https://s3.example.org").presign_endpoint() == "https://s3.example.org"


def test_bad_values_name_the_option_and_the_variable() -> None:
    with pytest.raises(SetupError, match=r"--s3-checksums \(SELENITE_S3_CHECKSUMS\)"):
        S3Settings(checksums="sometimes").checksum_mode()
    with pytest.raises(SetupError, match=r"--s3-addressing \(SELENITE_S3_ADDRESSING\)"):
        S3Settings(addressing="sideways").addressing_style()


def test_a_folder_registry_takes_no_s3_endpoint(tmp_path: Path) -> None:
    with pytest.raises(SetupError, match="only apply with --storage"):
        open_storage(root=tmp_path, s3=S3Settings(region="eu-west-1"))
    # the other S3 settings are ignored there, as the environment variables always were
    assert open_storage(root=tmp_path, s3=S3Settings(checksums="sometimes")).describe().startswith("folder ")


def _selenite(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("SELENITE_")}
    return subprocess.run([sys.executable, "-m", "selenite", *args], capture_output=True, text=True, timeout=60,
                          env={**clean, **(env or {})}, check=False)


def test_the_options_and_their_variables_reach_the_s3_client() -> None:
    # Refused while the client is made, before any request: no store needs to run.
    storage = ["--storage", "s3://some-bucket", "--s3-endpoint", "http://127.0.0.1:9"]
    r = _selenite("token", "create", "alice", *storage, "--s3-addressing", "sideways")
    assert r.returncode == 1 and "--s3-addressing (SELENITE_S3_ADDRESSING) must be path, virtual or auto" in r.stderr
    r = _selenite("token", "list", *storage, env={"SELENITE_S3_CHECKSUMS": "sometimes"})
    assert r.returncode == 1 and "SELENITE_S3_CHECKSUMS" in r.stderr and "Traceback" not in r.stderr


def test_serve_help_documents_the_s3_settings() -> None:
    out = _selenite("serve", "--help", env={"COLUMNS": "200"}).stdout
    for option, variable in (("--s3-checksums", "SELENITE_S3_CHECKSUMS"), ("--s3-addressing", "SELENITE_S3_ADDRESSING"),
                             ("--s3-public-endpoint", "SELENITE_S3_PUBLIC_ENDPOINT")):
        assert option in out and variable in out
