"""Install the inference engine, `llama-cpp-python[server]`, built once and cached as a wheel.

PyPI has only its sdist for this platform and building it takes minutes of CPU, so the built
wheel is kept in `<cache>/wheels` and every later install on this machine reuses it:
`pip wheel` once, then `pip install --find-links`.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import os
import subprocess
import sys
from pathlib import Path

from codegen.errors import EnvironmentProblem
from codegen.local_models.assemble import Progress
from codegen.paths import cache_root

ENGINE = "llama-cpp-python"
ENGINE_VERSION = "0.3.36"
REQUIREMENT = f"{ENGINE}[server]=={ENGINE_VERSION}"


def wheels_dir() -> Path:
    return cache_root() / "wheels"


def engine_installed() -> bool:
    try:
        if importlib.metadata.version(ENGINE) != ENGINE_VERSION:
            return False
    except importlib.metadata.PackageNotFoundError:
        return False
    return all(importlib.util.find_spec(m) for m in ("llama_cpp", "uvicorn", "fastapi"))


def cached_wheel() -> Path | None:
    prefix = f"{ENGINE.replace('-', '_')}-{ENGINE_VERSION}-"
    found = sorted(wheels_dir().glob(f"{prefix}*.whl")) if wheels_dir().is_dir() else []
    return found[-1] if found else None


def ensure_engine(progress: Progress | None = None) -> None:
    """Build the wheel if it is not cached, then install it with its server extras."""
    if engine_installed():
        return
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check"]
    if cached_wheel() is None:
        if progress:
            progress("build engine (minutes, once per machine)", 0, 1)
        wheels_dir().mkdir(parents=True, exist_ok=True)
        env = dict(os.environ)
        env.setdefault("CMAKE_BUILD_PARALLEL_LEVEL", str(os.cpu_count() or 2))
        _run([*pip, "wheel", "--no-deps", f"{ENGINE}=={ENGINE_VERSION}", "-w", str(wheels_dir())],
             env, "build")  # fmt: skip
        if progress:
            progress("build engine (minutes, once per machine)", 1, 1)
    if progress:
        progress("install engine", 0, 1)
    install = [*pip, "install", "--quiet", "--find-links", str(wheels_dir()), REQUIREMENT]
    _run(install, None, "install")
    importlib.invalidate_caches()
    if progress:
        progress("install engine", 1, 1)


def _run(command: list[str], env: dict[str, str] | None, what: str) -> None:
    done = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
    if done.returncode != 0:
        lines = (done.stderr or done.stdout).strip().splitlines() or ["pip failed"]
        raise EnvironmentProblem(f"cannot {what} {REQUIREMENT}: {lines[-1]}")
