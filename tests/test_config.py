"""config: which registry and token a command uses, and the files `selenite login` writes."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest

from selenite import config, dirs
from selenite.config import Endpoint, Settings
from selenite.errors import FatalError

A, B, C = "http://a.example:1", "http://b.example:2", "https://c.example"


def settings(url: str | None = None, token: str | None = None, env_url: str | None = None,
             env_token: str | None = None) -> Settings:
    return Settings(url=url, token=token, cache_dir=Path("/nonexistent"), env_url=env_url, env_token=env_token)


@pytest.fixture(autouse=True)
def _config_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv(config.ENV_CONFIG, str(tmp_path / "cfg"))
    return tmp_path / "cfg"


def test_the_url_comes_from_the_option_then_the_tree_then_the_environment_then_the_last_login() -> None:
    config.save_default_url(C + "/")
    assert settings(url=A + "/", env_url=B).endpoint(recorded=C).url == A
    assert settings(env_url=B).endpoint(recorded=A).url == A
    assert settings(env_url=B).endpoint().url == B
    assert settings().endpoint().url == C


def test_no_url_anywhere_is_one_clear_error() -> None:
    with pytest.raises(FatalError, match="no registry URL: pass --url, set SELENITE_URL"):
        settings().endpoint()


def test_the_token_option_goes_to_whatever_registry_the_command_uses() -> None:
    assert settings(token="tok", env_url=B).endpoint(recorded=A) == Endpoint(A, "tok")


def test_the_environment_token_goes_only_to_the_registry_the_user_named() -> None:
    assert settings(url=A, env_token="env").endpoint(recorded=B).token == "env"
    assert settings(env_url=A, env_token="env").endpoint().token == "env"
    # A tree records another registry: its commits may come from anyone, so the token stays home.
    withheld = settings(env_url=A, env_token="env").endpoint(recorded=B)
    assert withheld.token is None
    with pytest.raises(FatalError, match=rf"not sending \$SELENITE_TOKEN to {B}, the registry this tree records: "
                                         rf"that token is for \$SELENITE_URL \({A}\)"):
        withheld.need_token()
    unnamed = settings(env_token="env").endpoint(recorded=B)
    with pytest.raises(FatalError, match=r"\$SELENITE_URL or --url \(both unset\)"):
        unnamed.need_token()


def test_a_saved_login_is_used_for_its_own_url_only() -> None:
    path = config.save_login(A + "/", "saved-a")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert settings(env_token="env").endpoint(recorded=A) == Endpoint(A, "saved-a")
    assert settings().endpoint(recorded=B) == Endpoint(B, None)
    with pytest.raises(FatalError, match=f"no token for {B}: pass --token"):
        settings().endpoint(recorded=B).need_token()
    config.save_login(B, "saved-b")
    assert json.loads(path.read_text()) == {A: "saved-a", B: "saved-b"}
    assert config.token_for(None) is None
    assert Endpoint(A, "t").pair() == (A, "t")
    assert Endpoint(A, "t").need_token() == "t"


def test_entries_that_are_not_strings_are_ignored(_config_dir: Path) -> None:
    _config_dir.mkdir()
    (_config_dir / "credentials.json").write_text(json.dumps({A: 3, B: "ok"}))
    assert config.token_for(A) is None and config.token_for(B) == "ok"


@pytest.mark.parametrize("name", ["credentials.json", "registry.json"])
def test_unreadable_config_files_are_one_line_errors(_config_dir: Path, name: str) -> None:
    _config_dir.mkdir()
    (_config_dir / name).write_text("{not json")
    with pytest.raises(FatalError, match=f"cannot read {_config_dir / name}"):
        config.token_for(A) if name == "credentials.json" else config.default_url()


@pytest.mark.parametrize("content", ['["http://a"]', '{"url": 3}', '{"url": ""}', "{}"])
def test_a_default_registry_file_without_a_url_means_none(_config_dir: Path, content: str) -> None:
    _config_dir.mkdir()
    (_config_dir / "registry.json").write_text(content)
    assert config.default_url() is None


@pytest.mark.parametrize("url", ["localhost:8787", "ftp://x", ""])
def test_urls_must_be_http(url: str) -> None:
    with pytest.raises(FatalError, match="must start with http:// or https://"):
        config.normalize_url(url)
    assert config.normalize_url(" https://x/ ") == "https://x"


def test_load_checks_nothing_so_a_bad_environment_url_only_fails_a_command_that_uses_it(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv(config.ENV_URL, "localhost:8787")
    monkeypatch.setenv(config.ENV_TOKEN, "env")
    monkeypatch.delenv(config.ENV_CACHE)
    s = config.load(url="", token="", cache=tmp_path / "c")
    assert (s.url, s.token, s.cache_dir) == (None, None, tmp_path / "c")
    assert (s.env_url, s.env_token) == ("localhost:8787", "env")
    with pytest.raises(FatalError, match="must start with http"):
        s.endpoint()
    assert config.load().cache_dir == dirs.default_cache_dir()
    assert dirs.default_cache_dir().name == "selenite"  # the platform's user cache folder


def test_the_config_folder_and_admins_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(config.ENV_CONFIG)
    assert dirs.config_dir() == Path(os.environ["XDG_CONFIG_HOME"]) / "selenite"
    monkeypatch.setenv(config.ENV_ADMINS, "alice,,bob")
    assert config.admins_from_env() == ["alice", "bob"]


def test_the_working_directory_is_read_once_by_load(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Commands take the directory from Settings (resolved here, at the edge), never from the process.
    monkeypatch.chdir(tmp_path)
    assert config.load(cache=tmp_path).cwd == tmp_path
    assert config.load(cache=tmp_path, cwd=tmp_path / "sub").cwd == tmp_path / "sub"
