"""The packages' floors hold: import-linter with the contracts in pyproject.toml
(`[tool.importlinter]`), as `make lint` runs it, so that a new back arrow fails `make test`."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from tests.cli_support import ROOT

LINT = [sys.executable, "-c", "from importlinter.cli import lint_imports_command as c; c()"]


def lint_imports(tree: Path) -> subprocess.CompletedProcess[str]:
    """import-linter over the packages of ``tree`` (found first on the path), its contracts."""
    env = {**os.environ, "PYTHONPATH": str(tree)}
    return subprocess.run(
        [*LINT, "--no-cache", "--config", str(tree / "pyproject.toml")],
        capture_output=True, text=True, timeout=300, cwd=tree, env=env,
    )  # fmt: skip


def test_every_arrow_points_down() -> None:
    done = lint_imports(ROOT)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "0 broken" in done.stdout


def copy_of_the_packages(tmp_path: Path) -> Path:
    for package in ("codegen", "sandbox"):
        shutil.copytree(ROOT / package, tmp_path / package, symlinks=True,
                        ignore=shutil.ignore_patterns("__pycache__"))  # fmt: skip
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    return tmp_path


def test_a_back_arrow_fails(tmp_path: Path) -> None:
    """The old one: the solve report reading the optimise package, a floor above it; inside a
    function, too (import-linter sees every import, not only the module's top)."""
    tree = copy_of_the_packages(tmp_path)
    report = tree / "codegen" / "solve" / "report.py"
    report.write_text(report.read_text() + "\n\ndef later():\n    import codegen.optimise.flow\n")
    done = lint_imports(tree)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "codegen.solve.report -> codegen.optimise.flow" in done.stdout


def test_a_package_off_the_floors_fails(tmp_path: Path) -> None:
    """A new package must be given its floor: the contract is exhaustive."""
    tree = copy_of_the_packages(tmp_path)
    (tree / "codegen" / "newcomer").mkdir()
    (tree / "codegen" / "newcomer" / "__init__.py").write_text("")
    done = lint_imports(tree)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "codegen.newcomer" in done.stdout


def test_the_sandbox_imports_nothing_of_codegen(tmp_path: Path) -> None:
    tree = copy_of_the_packages(tmp_path)
    pool = tree / "sandbox" / "pool.py"
    pool.write_text(pool.read_text() + "\nfrom codegen.errors import BadInput  # noqa: E402\n")
    done = lint_imports(tree)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "sandbox.pool -> codegen.errors" in done.stdout
