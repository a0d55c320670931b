"""Where codegen keeps its files on the user's machine, in one place.

- the cache (``$CODEGEN_CACHE``, else ``~/.cache/codegen``): models, engine wheels, solved
  stubs outside a git repository, hypothesis's own files;
- the user directory (``$CODEGEN_HOME``, else ``$XDG_CONFIG_HOME/codegen``, by default
  ``~/.config/codegen``): databases worth keeping.

Nothing is ever written to the folder a command runs in or reads problems from.
"""

from __future__ import annotations

import os
from pathlib import Path


def cache_root() -> Path:
    configured = os.environ.get("CODEGEN_CACHE")
    return Path(configured).expanduser() if configured else Path.home() / ".cache" / "codegen"


def user_dir() -> Path:
    configured = os.environ.get("CODEGEN_HOME")
    if configured:
        return Path(configured).expanduser()
    return Path(os.environ.get("XDG_CONFIG_HOME") or "~/.config").expanduser() / "codegen"


def keep_hypothesis_in_the_cache() -> None:
    """Hypothesis writes ``.hypothesis/`` into the working directory by default (its example
    database and the constants it collects): point it at the cache instead."""
    from hypothesis.configuration import set_hypothesis_home_dir

    set_hypothesis_home_dir(str(cache_root() / "hypothesis"))
