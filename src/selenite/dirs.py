"""Where selenite keeps its own files unless told otherwise: the shared cache and the config folder
(``$SELENITE_CACHE``, ``$SELENITE_CONFIG_DIR``, else the platform's folders). Apart from
``config`` (the settings, a dataclass): the clean/smudge filter, a process Git starts for
commands that filter files, needs only the cache folder and starts without loading the settings.
"""

from __future__ import annotations

import os
from pathlib import Path

ENV_CACHE = "SELENITE_CACHE"
ENV_CONFIG = "SELENITE_CONFIG_DIR"


def config_dir() -> Path:
    env = os.environ.get(ENV_CONFIG)
    if env:
        return Path(env)
    import platformdirs  # noqa: PLC0415 -- ~5 ms, paid only without the variable

    return Path(platformdirs.user_config_dir("selenite"))


def default_cache_dir() -> Path:
    env = os.environ.get(ENV_CACHE)
    if env:
        return Path(env)
    import platformdirs  # noqa: PLC0415 -- only without the variable

    return Path(platformdirs.user_cache_dir("selenite"))
