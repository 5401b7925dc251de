"""Opening the backend ``selenite serve`` / ``selenite token`` were asked for.

Refusals are :class:`~selenite.server.errors.SetupError` s, which the command line prints as one line.
"""

from __future__ import annotations

from pathlib import Path

from selenite.server.errors import SetupError
from selenite.server.storage.base import Storage
from selenite.server.storage.folder import FolderStorage
from selenite.server.storage.s3settings import S3Settings


def open_storage(root: Path | None = None, storage: str | None = None, s3: S3Settings | None = None) -> Storage:
    """The backend the command line asked for: ``--root DIR`` or ``--storage s3://bucket/prefix``."""
    s3 = s3 or S3Settings()
    if (root is None) == (storage is None):
        raise SetupError("give exactly one of --root DIR or --storage s3://BUCKET[/PREFIX]")
    if root is not None:
        if s3.endpoint or s3.region:
            raise SetupError("--s3-endpoint and --s3-region only apply with --storage s3://...")
        return FolderStorage(root)
    assert storage is not None
    if not storage.startswith("s3://") or len(storage) <= len("s3://"):
        raise SetupError(f"--storage {storage!r} must look like s3://BUCKET[/PREFIX]")
    # boto3 takes about a third of a second to import: a folder registry (and the tests that start
    # hundreds of them) never pays for it.
    from selenite.server.storage import s3connect  # noqa: PLC0415 - start-up time, see above

    return s3connect.open_s3_storage(storage, s3)
