"""``Tree``: a selenite working tree driven from Python (``selenite.clone``, ``selenite.open_tree``).

Each method is what the command of its name does (`selenite status`, `get`, `push`), with a result
object instead of printed lines. ``registry=None`` means the CLI's defaults (the tree's recorded
registry, with ``$SELENITE_URL``/``$SELENITE_TOKEN`` and ``selenite login`` as the CLI uses them); a
``Registry`` is used instead of those, as ``--url``/``--token`` would be.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from selenite import config, gitrepo, output
from selenite.api import clone as cloning
from selenite.api.get import Got, get
from selenite.api.pull import Pulled, pull
from selenite.api.push import Pushed, push
from selenite.api.registry import Registry
from selenite.api.status import Status, status
from selenite.config import Settings
from selenite.errors import FatalError
from selenite.output import ProgressHook
from selenite.tree.origin import Origin, require_origin
from selenite.workspace import open_tree as open_workspace

Progress = ProgressHook | bool | None


def settings_for(registry: Registry | None, cwd: Path | None = None) -> Settings:
    """The settings an API call runs with: ``registry``'s alone, or the CLI's defaults for None."""
    return registry.settings(cwd) if registry is not None else config.load(cwd=cwd)


class Tree:
    """A working tree: a Git repository of links (or hard links, or copies) to one version's files."""

    def __init__(self, root: Path, registry: Registry | None = None) -> None:
        self.root = Path(root)
        self.registry = registry

    def __repr__(self) -> str:
        return f"Tree({str(self.root)!r})"

    def _settings(self) -> Settings:
        return settings_for(self.registry, self.root)

    @property
    def origin(self) -> Origin:
        """The registry ``url``, ``project``, ``asset`` and ``version`` the tree holds (HEAD's)."""
        return require_origin(self.root, gitrepo.config_section(self.root, "selenite"))

    def status(self) -> Status:
        """Each path compared with the tree's version (no request to the registry)."""
        return status(self._settings())

    def get(self, paths: Sequence[str | Path] = (), *, everything: bool = False, jobs: int = 8,
            progress: Progress = None) -> Got:
        """Fetch the content of ``paths`` (files, folders or globs relative to the tree's top; none:
        the tree's selection, or all with ``everything``). Paths whose cache object is damaged are
        listed in ``Got.corrupted``."""
        with output.showing(progress):
            return get(self._settings(), [Path(p) for p in paths], jobs=jobs, everything=everything)

    def push(self, *, message: str | None = None, version: str | None = None, dry_run: bool = False,
             probation: bool = False, force: bool = False, follow_external: bool = False, jobs: int = 8,
             progress: Progress = None) -> Pushed:
        """Publish the tree as a new version (``version``, default the next free name), uploading only
        new bytes, then commit and tag it here; ``dry_run`` returns the plan only. Raises ``Conflict``
        when the registry's latest version is not this tree's base (pull first, or ``force``), and
        ``Error`` when a cache object was edited through a link."""
        with output.showing(progress):
            done = push(self._settings(), version=version, probation=probation, dry_run=dry_run, jobs=jobs,
                        message=message, follow_external=follow_external, force=force)
        if done.damaged:
            raise FatalError(f"push refused: {len(done.damaged)} cache object(s) were changed through a link "
                             f"(e.g. {done.damaged[0].path}); run `selenite fsck --repair` in {self.root}")
        return done

    def pull(self, *, version: str | None = None, download: bool = True, jobs: int = 8,
             progress: Progress = None) -> Pulled:
        """Bring the registry's latest version (or ``version``) into the tree, as `selenite pull` does: a
        fast-forward, else a Git merge, committed when clean. A merge that stops on conflicts returns
        them in ``Pulled.conflicted`` (nothing is lost; fix, ``git add``, ``git commit``). Uncommitted
        edits the merge would overwrite are refused (``Error``) before anything changes."""
        with output.showing(progress):
            return pull(self._settings(), version=version, download=download, jobs=jobs)


def open_tree(path: str | Path = ".", *, registry: Registry | None = None) -> Tree:
    """The working tree holding ``path`` (a folder inside it); ``NotAWorkingTree`` when there is none."""
    root, _, _ = open_workspace(settings_for(registry, Path(path).absolute()))
    return Tree(root, registry)


def clone(ref: str, dest: str | Path | None = None, *, link_mode: str = "symlink", include: Sequence[str] = (),
          exclude: Sequence[str] = (), download: bool = True, registry: Registry | None = None, jobs: int = 8,
          progress: Progress = None) -> Tree:
    """Clone the version ``ref`` (``PROJECT/ASSET[@VERSION]``, latest when not named) into ``dest``
    (default: a folder named after the asset, in the current folder) and return its ``Tree``.

    ``link_mode``: ``symlink``, ``hardlink``, ``copy`` or ``auto``; ``include``/``exclude``: globs
    choosing the paths whose content is fetched (every path is in the tree); ``download=False``
    fetches nothing (``Tree.get`` does later). Any failure leaves no ``dest`` behind."""
    with output.showing(progress):
        root = cloning.clone(settings_for(registry), ref, Path(dest) if dest is not None else None,
                             download=download, jobs=jobs, link_mode=link_mode, include=include, exclude=exclude)
    return Tree(root, registry)
