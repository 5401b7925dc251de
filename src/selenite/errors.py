"""Every exception class of the client (the server has its own, in ``selenite.server``).

Anything that is the user's input, the registry's answer or the state of their files raises a
``FatalError`` (or a subclass): the CLI prints its message as one line on stderr and exits 1.
The Python API raises the same classes under their public names (``selenite.Error`` is
``FatalError``; ``selenite.NotFound``, ``selenite.Refused``, ``selenite.Conflict``), so the CLI and the
API share one error path.
Any other exception is a bug: the CLI writes a crash log and exits 3. The two that are not
``FatalError``s never reach the CLI: ``DownloadStopped`` and ``ProtocolError`` are caught where
they are raised.
"""

from __future__ import annotations


class FatalError(Exception):
    """An expected failure, explained in one line (``str(e)``): bad input, a refusal, files in a
    state selenite will not touch. Public name: ``selenite.Error``; every other public exception
    subclasses it."""


Error = FatalError


class RegistryError(FatalError):
    """The registry refused a request or could not be reached."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class NotFound(RegistryError):
    """The registry has no such project, asset, version or file (404)."""


class Refused(RegistryError):
    """The registry refused the caller: no token, an unknown or revoked one (401), or not allowed (403)."""


class Conflict(RegistryError):
    """The registry holds something that a request would overwrite or drop (409; or a push whose base is
    no longer the latest version: pull first, or push with ``force``)."""


class Unreachable(RegistryError):
    """The registry could not be reached, or did not answer in time; ``detail`` is the innermost
    reason (a failed upload is retried, and reports the last one)."""

    def __init__(self, message: str, detail: str) -> None:
        super().__init__(message)
        self.detail = detail


class InvalidKey(FatalError):
    """A string that should name a key does not."""


class ChecksumMismatch(FatalError):
    """Bytes did not hash to the md5 (or size) they were announced with."""


class UnsafePath(FatalError):
    """A path from a manifest, a link or the command line would escape its root."""


class NotAWorkingTree(FatalError):
    """The current directory is not inside a selenite working tree."""


class HookInstallRefused(FatalError):
    """selenite will not write its hook here (it would clobber or affect something it should not)."""


class DownloadStopped(Exception):
    """A download cut short at its next chunk because another one failed or Ctrl-C was pressed:
    the first failure is what the command reports, never this."""


class ProtocolError(Exception):
    """Git sent the filter process something this side of the pkt-line protocol does not understand."""
