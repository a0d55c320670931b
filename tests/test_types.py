"""The type checker passes: mypy with the project's configuration (`[tool.mypy]` in
pyproject.toml, strict on the ranking, the evaluation and the sandbox's contract), as `make lint`
runs it, so that CI (`make test`) fails on a type error too."""

from __future__ import annotations

import re
import subprocess
import sys
import tokenize

import pytest

from tests.cli_support import ROOT


@pytest.mark.slow  # 40 s to 2 min from a fresh clone; `make lint` runs it too, `make test` here
def test_mypy_passes_with_the_project_configuration() -> None:
    # the cache stays in the checkout's .mypy_cache (gitignored): a re-run checks only what changed
    done = subprocess.run(
        [sys.executable, "-m", "mypy", "--config-file", str(ROOT / "pyproject.toml")],
        capture_output=True, text=True, timeout=900, cwd=ROOT,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Success: no issues found" in done.stdout


def test_every_type_ignore_names_its_error_code_and_a_reason() -> None:
    """`# type: ignore[code]  # why` (issue #21's habit): mypy checks the code is there
    (ignore-without-code) and still needed (warn_unused_ignores); the reason is checked here."""
    said = re.compile(r"type:\s*ignore\[[a-z-]+(,\s*[a-z-]+)*\]\s+#\s*\S")
    bare = []
    for path in sorted([*(ROOT / "codegen").rglob("*.py"), *(ROOT / "sandbox").rglob("*.py")]):
        with path.open("rb") as handle:
            for token in tokenize.tokenize(handle.readline):
                text = token.string
                ignore = token.type == tokenize.COMMENT and text.startswith("# type: ignore")
                if ignore and not said.search(text):
                    bare.append(f"{path.relative_to(ROOT)}:{token.start[0]}: {text}")
    assert not bare, "\n".join(bare)
