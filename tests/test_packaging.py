"""The project as users install it: a wheel (not this checkout) that holds everything the
sandbox image needs, installed into a fresh virtualenv, building the sandbox and solving from a
folder that is not this repository."""

from __future__ import annotations

import os
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest

from sandbox import engine, image
from tests.cli_support import CLEAN_ENV, ROOT, TWO_SUM_HASH, FakeServerProcess, fenced

HARNESS = sorted(p.name for p in (ROOT / "sandbox" / "harness").glob("*.py"))


@pytest.mark.slow  # builds the wheel
def test_the_wheel_holds_the_image_recipes_and_the_harness(project_wheel: Path) -> None:
    wheel = project_wheel
    names = set(zipfile.ZipFile(wheel).namelist())
    for recipe in ("Dockerfile.debian", "Dockerfile.registry"):
        assert f"sandbox/images/{recipe}" in names
        assert (ROOT / "images" / recipe).read_bytes() == zipfile.ZipFile(wheel).read(
            f"sandbox/images/{recipe}"
        )
    assert {f"sandbox/harness/{name}" for name in HARNESS} <= names
    assert "codegen/cli/__init__.py" in names and "sandbox/__init__.py" in names
    page = ("page.html", "page.css", "page.js", "page-sse.js", "page-form.js")
    assert {f"codegen/service/{name}" for name in page} <= names
    assert not any(name.startswith(("tests/", "benchmarks/", "examples/")) for name in names)


@pytest.mark.docker
@pytest.mark.slow
def test_a_fresh_venv_from_the_wheel_builds_the_sandbox_and_solves(
    wheel_venv: Path, tmp_path: Path
) -> None:
    venv = wheel_venv  # the session's (tests/install_support.py), shared with the quick start's
    elsewhere = tmp_path / "work"
    shutil.copytree(ROOT / "examples" / "two_sum", elsewhere / "two_sum")
    shutil.rmtree(elsewhere / "two_sum" / "candidates")
    env = {k: v for k, v in os.environ.items() if k not in CLEAN_ENV and k != "PYTHONPATH"}
    env |= {"LITELLM_LOCAL_MODEL_COST_MAP": "True", "CODEGEN_CACHE": str(tmp_path / "cache")}
    codegen = str(venv / "bin" / "codegen")

    built = subprocess.run(
        [codegen, "sandbox", "build"], cwd=elsewhere, env=env, capture_output=True, text=True
    )
    assert built.returncode == 0, built.stderr
    # the same content hash as this checkout: every node gets the same image
    assert built.stdout.strip().splitlines()[-1] == image.find_image(engine.connect())

    with FakeServerProcess({"models": {"coder": [fenced(TWO_SUM_HASH)]}}, tmp_path) as server:
        solved = subprocess.run(
            [codegen, "solve", "two_sum", "--models", "openai/coder", "--no-jury"],
            cwd=elsewhere,
            env=env | {"OPENAI_API_BASE": server.base_url},
            capture_output=True,
            text=True,
            timeout=600,
        )
    assert solved.returncode == 0, solved.stderr
    assert "seen = {}" in solved.stdout
    where = subprocess.run(
        [str(venv / "bin" / "python"), "-c", "import sandbox; print(sandbox.__file__)"],
        capture_output=True,
        text=True,
        env=env,
        cwd=elsewhere,
    )
    assert str(venv) in where.stdout  # the installed copy ran, not this checkout
