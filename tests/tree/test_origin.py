"""A tree's origin: the version HEAD records, with the local config's registry URL."""

from __future__ import annotations

from pathlib import Path

import pytest

from selenite import gitrepo
from selenite.errors import NotAWorkingTree
from selenite.tree.origin import Origin, origin, origin_from_trailers, record_origin, require_origin

URL = "http://127.0.0.1:1"


def test_origin_from_config_then_trailers(tmp_path: Path) -> None:
    root = tmp_path / "t"
    root.mkdir()
    gitrepo.init(root)
    assert origin(root) is None
    with pytest.raises(NotAWorkingTree):
        require_origin(root)
    record_origin(root, Origin(URL, "p", "a", "v0"), "copy")  # an adopted folder: config alone
    assert origin(root) == Origin(URL, "p", "a", "v0")
    assert gitrepo.config_get(root, "selenite.linkmode") == "copy"
    gitrepo.commit(root, gitrepo.version_message("t", "http://other:2", "p", "a", "v1"), allow_empty=True)
    # HEAD's version wins over the config's; the config's URL (a local choice) over the trailers'.
    assert require_origin(root) == Origin(URL, "p", "a", "v1")
    assert require_origin(root).spec == "p/a/v1"


def test_trailers_must_name_all_three() -> None:
    assert origin_from_trailers({"Selenite-Registry": URL, "Selenite-Version": "p/a/v1"}) == Origin(URL, "p", "a", "v1")
    assert origin_from_trailers({"Selenite-Registry": URL, "Selenite-Version": "p/a"}) is None
    assert origin_from_trailers({"Selenite-Registry": URL, "Selenite-Version": "p//v1"}) is None
    assert origin_from_trailers({"Selenite-Version": "p/a/v1"}) is None
