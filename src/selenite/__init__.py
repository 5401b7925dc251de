"""selenite: the Git workflow for versioned datasets in a gypsum-style registry.

The Python API (``selenite.clone``, ``selenite.download``, ``selenite.Registry``...) is loaded on
first use: every ``selenite.x`` import (the CLI, the pre-commit hook, the Git filter process) runs
this file, and must not pay for the API's imports (``tests/check/test_imports.py``).
"""

from __future__ import annotations

# Not `from typing import TYPE_CHECKING`: importing typing costs ~8 ms, and type checkers (and the
# import contracts) know this name by itself.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from selenite.api.files import diff, download, download_version, manifest, versions
    from selenite.api.get import Got
    from selenite.api.log import Entry as VersionInfo
    from selenite.api.pull import Pulled
    from selenite.api.push import Pushed
    from selenite.api.registry import Registry
    from selenite.api.status import Status
    from selenite.api.tokens import create_token, list_tokens, revoke_token
    from selenite.api.tree import Tree, clone, open_tree
    from selenite.errors import Conflict, Error, NotAWorkingTree, NotFound, Refused, RegistryError
    from selenite.output import ProgressHook
    from selenite.tree.entry import Entry, PathStatus

__version__ = "0.1.0"

# public name -> (module, name there)
_LAZY = {
    "clone": ("selenite.api.tree", "clone"),
    "open_tree": ("selenite.api.tree", "open_tree"),
    "Tree": ("selenite.api.tree", "Tree"),
    "Status": ("selenite.api.status", "Status"),
    "Entry": ("selenite.tree.entry", "Entry"),
    "PathStatus": ("selenite.tree.entry", "PathStatus"),
    "Got": ("selenite.api.get", "Got"),
    "Pushed": ("selenite.api.push", "Pushed"),
    "Pulled": ("selenite.api.pull", "Pulled"),
    "download": ("selenite.api.files", "download"),
    "download_version": ("selenite.api.files", "download_version"),
    "manifest": ("selenite.api.files", "manifest"),
    "versions": ("selenite.api.files", "versions"),
    "VersionInfo": ("selenite.api.log", "Entry"),
    "diff": ("selenite.api.files", "diff"),
    "Registry": ("selenite.api.registry", "Registry"),
    "create_token": ("selenite.api.tokens", "create_token"),
    "list_tokens": ("selenite.api.tokens", "list_tokens"),
    "revoke_token": ("selenite.api.tokens", "revoke_token"),
    "ProgressHook": ("selenite.output", "ProgressHook"),
    "Error": ("selenite.errors", "Error"),
    "RegistryError": ("selenite.errors", "RegistryError"),
    "NotFound": ("selenite.errors", "NotFound"),
    "Refused": ("selenite.errors", "Refused"),
    "Conflict": ("selenite.errors", "Conflict"),
    "NotAWorkingTree": ("selenite.errors", "NotAWorkingTree"),
}

__all__ = [
    "Conflict", "Entry", "Error", "Got", "NotAWorkingTree", "NotFound", "PathStatus", "ProgressHook", "Pulled",
    "Pushed", "Refused", "Registry", "RegistryError", "Status", "Tree", "VersionInfo", "clone", "create_token",
    "diff", "download", "download_version", "list_tokens", "manifest", "open_tree", "revoke_token", "versions",
]


def __getattr__(name: str) -> object:
    """The API's names, imported on first use (and kept, so the next use is a plain lookup)."""
    import importlib  # noqa: PLC0415 -- only when an API name is used (see the module docstring)

    if name not in _LAZY:
        raise AttributeError(f"module 'selenite' has no attribute {name!r}")
    module, attr = _LAZY[name]
    value = getattr(importlib.import_module(module), attr)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
