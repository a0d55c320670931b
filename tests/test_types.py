"""The type checker passes: mypy with the project's configuration (`[tool.mypy]` in
pyproject.toml, strict on the ranking, the evaluation and the sandbox's contract), as `make lint`
runs it, so that CI (`make test`) fails on a type error too."""

from __future__ import annotations

import subprocess
import sys

from tests.cli_support import ROOT


def test_mypy_passes_with_the_project_configuration() -> None:
    # the cache stays in the checkout's .mypy_cache (gitignored): a re-run checks only what changed
    done = subprocess.run(
        [sys.executable, "-m", "mypy", "--config-file", str(ROOT / "pyproject.toml")],
        capture_output=True, text=True, timeout=900, cwd=ROOT,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Success: no issues found" in done.stdout
