"""The inference engine, `xllamacpp` (llama.cpp and its OpenAI-compatible C++ server, as a
prebuilt manylinux wheel with no dependencies): installed once per user, in the cache, and
shared by every environment codegen runs from.

    python -m venv <cache>/engine/xllamacpp-<version>        (its own environment)
        └─ pip install xllamacpp==<version>                   (a wheel: seconds, no build)
    runtime: <cache>/engine/…/bin/python xllamacpp_server.py …  (one process per slot)

The servers run in that environment, not in codegen's: a venv, a pipx install or the virtualenv
pre-commit makes for the hook all use the one engine, and none has to install it. An engine
installed into codegen's own environment (the `local` extra) is used when the cached one is not
there.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import json
import shutil
import subprocess
import sys
from pathlib import Path

from codegen.errors import EnvironmentProblem
from codegen.local_models.assemble import Progress, file_lock
from codegen.paths import cache_root

ENGINE = "xllamacpp"
ENGINE_VERSION = "2026.10.11549"
REQUIREMENT = f"{ENGINE}=={ENGINE_VERSION}"
# the native library loads on this CPU (a wheel built for another one fails here, not mid-run)
CHECK = "import xllamacpp; xllamacpp.CommonParams()"
INSTALL = "install engine"
SERVER_SCRIPT = Path(__file__).with_name("xllamacpp_server.py")


def engine_home() -> Path:
    """The engine's own environment, shared by every codegen install of this user."""
    return cache_root() / "engine" / f"{ENGINE}-{ENGINE_VERSION}"


def engine_python() -> Path | None:
    """The interpreter that runs the servers: the cached engine's, else this one when the
    engine is installed here; None when neither has it."""
    home = engine_home()
    python = home / "bin" / "python"
    if _stamp(home) == _expected_stamp() and python.exists():
        return python
    return Path(sys.executable) if _installed_here() else None


def engine_installed() -> bool:
    return engine_python() is not None


def ensure_engine(progress: Progress | None = None) -> Path:
    """Install the engine into its environment if that is not ready; returns the engine's
    interpreter. Safe to run from several processes."""
    home = engine_home()
    if _stamp(home) == _expected_stamp():
        return home / "bin" / "python"
    home.parent.mkdir(parents=True, exist_ok=True)
    with file_lock(home.parent / f"{home.name}.lock"):
        if _stamp(home) == _expected_stamp():  # another process finished it while we waited
            return home / "bin" / "python"
        _install(home, progress)
    return home / "bin" / "python"


def _install(home: Path, progress: Progress | None) -> None:
    """A fresh environment beside `home`, the engine installed and checked, then moved in
    place: a half-made engine is never seen."""
    if progress:
        progress(INSTALL, 0, 1)
    partial = home.with_name(home.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    _run([sys.executable, "-m", "venv", str(partial)], "create the environment of")
    python = str(partial / "bin" / "python")
    _run([python, "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
          REQUIREMENT], "install")  # fmt: skip
    _run([python, "-c", CHECK], "load")
    (partial / "codegen-engine.json").write_text(json.dumps(_expected_stamp()) + "\n")
    shutil.rmtree(home, ignore_errors=True)
    partial.rename(home)
    if progress:
        progress(INSTALL, 1, 1)


def _expected_stamp() -> dict[str, str]:
    return {"requirement": REQUIREMENT}


def _stamp(home: Path) -> dict[str, str] | None:
    try:
        return json.loads((home / "codegen-engine.json").read_text())
    except (OSError, ValueError):
        return None


def _installed_here() -> bool:
    try:
        if importlib.metadata.version(ENGINE) != ENGINE_VERSION:
            return False
    except importlib.metadata.PackageNotFoundError:
        return False
    return importlib.util.find_spec(ENGINE) is not None


def _run(command: list[str], what: str) -> None:
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        lines = (done.stderr or done.stdout).strip().splitlines() or ["failed"]
        raise EnvironmentProblem(f"cannot {what} {REQUIREMENT}: {lines[-1]}")
