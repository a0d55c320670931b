"""The inference engine, `llama-cpp-python[server]`: installed once per user, in the cache, and
shared by every environment codegen runs from.

PyPI has only its sdist for this platform and building it takes minutes of CPU, so:

    pip wheel (once per machine and Python version) ─▶ <cache>/wheels/llama_cpp_python-….whl
    python -m venv <cache>/engine/llama-cpp-python-<version>   (its own environment)
        └─ pip install --find-links <cache>/wheels llama-cpp-python[server]==<version>
    runtime: <cache>/engine/…/bin/python -m llama_cpp.server …  (one process per slot)

The servers run in that environment, not in codegen's: a venv, a pipx install or the virtualenv
pre-commit makes for the hook all use the one engine, none has to install it, and its
dependencies (fastapi, uvicorn) never meet litellm's. An engine installed into codegen's own
environment (the `local` extra) is used when the cached one is not there.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from codegen.errors import EnvironmentProblem
from codegen.local_models.assemble import Progress, file_lock
from codegen.paths import cache_root

ENGINE = "llama-cpp-python"
ENGINE_VERSION = "0.3.36"
REQUIREMENT = f"{ENGINE}[server]=={ENGINE_VERSION}"
CHECK = "import llama_cpp, llama_cpp.server.app"  # the library loads and the server imports
BUILD = "build engine (minutes, once per machine)"


def wheels_dir() -> Path:
    return cache_root() / "wheels"


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


def cached_wheel() -> Path | None:
    """A built wheel this interpreter can install (its Python tag `py3` or `cp311` …)."""
    prefix = f"{ENGINE.replace('-', '_')}-{ENGINE_VERSION}-"
    found = sorted(wheels_dir().glob(f"{prefix}*.whl")) if wheels_dir().is_dir() else []
    usable = {"py3", _python_tag()}
    for wheel in reversed(found):
        python_tags = wheel.name.removeprefix(prefix).split("-")[0].split(".")
        if usable & set(python_tags):
            return wheel
    return None


def ensure_engine(progress: Progress | None = None) -> Path:
    """Build the wheel if it is not cached, install it into the engine's environment if that
    is not ready; returns the engine's interpreter. Safe to run from several processes."""
    home = engine_home()
    if _stamp(home) == _expected_stamp():
        return home / "bin" / "python"
    home.parent.mkdir(parents=True, exist_ok=True)
    with file_lock(home.parent / f"{home.name}.lock"):
        if _stamp(home) == _expected_stamp():  # another process finished it while we waited
            return home / "bin" / "python"
        if cached_wheel() is None:
            _build_wheel(progress)
        _install(home, progress)
    return home / "bin" / "python"


def _build_wheel(progress: Progress | None) -> None:
    if progress:
        progress(BUILD, 0, 1)
    wheels_dir().mkdir(parents=True, exist_ok=True)
    env = dict(os.environ)
    env.setdefault("CMAKE_BUILD_PARALLEL_LEVEL", str(os.cpu_count() or 2))
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check"]
    _run([*pip, "wheel", "--no-deps", f"{ENGINE}=={ENGINE_VERSION}", "-w", str(wheels_dir())],
         env, "build")  # fmt: skip
    if progress:
        progress(BUILD, 1, 1)


def _install(home: Path, progress: Progress | None) -> None:
    """A fresh environment beside `home`, the engine installed and checked, then moved in
    place: a half-made engine is never seen."""
    if progress:
        progress("install engine", 0, 1)
    partial = home.with_name(home.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    _run([sys.executable, "-m", "venv", str(partial)], None, "create the environment of")
    python = str(partial / "bin" / "python")
    _run([python, "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
          "--find-links", str(wheels_dir()), REQUIREMENT], None, "install")  # fmt: skip
    _run([python, "-c", CHECK], None, "load")
    (partial / "codegen-engine.json").write_text(json.dumps(_expected_stamp()) + "\n")
    shutil.rmtree(home, ignore_errors=True)
    partial.rename(home)
    if progress:
        progress("install engine", 1, 1)


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
    return all(importlib.util.find_spec(m) for m in ("llama_cpp", "uvicorn", "fastapi"))


def _python_tag() -> str:
    return f"cp{sys.version_info.major}{sys.version_info.minor}"


def _run(command: list[str], env: dict[str, str] | None, what: str) -> None:
    done = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
    if done.returncode != 0:
        lines = (done.stderr or done.stdout).strip().splitlines() or ["failed"]
        raise EnvironmentProblem(f"cannot {what} {REQUIREMENT}: {lines[-1]}")
