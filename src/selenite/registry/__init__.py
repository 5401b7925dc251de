"""The client of a gypsum-style registry (``selenite serve`` is one; so is the gypsum worker).

- ``session``: the one ``requests.Session`` per command (pool, timeouts, retries) and
  ``translating()``, the one place requests' exceptions become ``RegistryError``s;
- ``answers``: bounded reading of answers (JSON, refusal reasons);
- ``records``: the batched answer of ``POST /_selenite/objects``;
- ``client``: ``RegistryClient``, the typed calls, and ``session_for``.

A refusal becomes a one-line ``RegistryError`` carrying the registry's own ``reason``:
``registry refused upload start of p/a/v: 403 user is not authorized to upload``.
"""

from __future__ import annotations

from selenite.registry.client import RegistryClient, quote_key, session_for

__all__ = ["RegistryClient", "quote_key", "session_for"]
