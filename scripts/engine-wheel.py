#!/usr/bin/env python3
"""Build the inference engine's wheel into the codegen cache, needing nothing but a pip.

The first run (`make setup`) starts this as soon as the venv exists, beside the project's own
install, the Docker engine and the model's download: the build is minutes of CPU and needs none
of them. The version and the cache folder are read from codegen/local_models/engine.py and
codegen/paths.py as text (the project is not installed yet); `codegen models pull` then installs
the cached wheel. Idempotent: nothing to do when the wheel is cached.
"""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def constant(path: Path, name: str) -> str:
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == name for t in node.targets
        ):
            return str(ast.literal_eval(node.value))
    raise SystemExit(f"engine-wheel: {name} not found in {path}")


def main() -> int:
    source = ROOT / "codegen" / "local_models" / "engine.py"
    engine, version = constant(source, "ENGINE"), constant(source, "ENGINE_VERSION")
    cache = os.environ.get("CODEGEN_CACHE")
    wheels = (Path(cache).expanduser() if cache else Path.home() / ".cache" / "codegen") / "wheels"
    prefix = f"{engine.replace('-', '_')}-{version}-"
    if wheels.is_dir() and any(wheels.glob(f"{prefix}*.whl")):
        return 0
    wheels.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "CMAKE_BUILD_PARALLEL_LEVEL": str(os.cpu_count() or 2)}
    print(
        f"engine-wheel: building {engine}=={version} (minutes, once per machine)", file=sys.stderr
    )
    command = [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps",
               f"{engine}=={version}", "-w", str(wheels)]  # fmt: skip
    return subprocess.run(command, env=env, check=False).returncode


if __name__ == "__main__":
    sys.exit(main())
