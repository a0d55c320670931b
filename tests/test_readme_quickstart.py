"""The README's quick start, run as a newcomer runs it: the project's wheel installed into a fresh
virtualenv, the stub written from the README's own python block, and every command of its sh
block run as written, in order, by bash, with that virtualenv first on PATH. The commands are
read from the README, so the two cannot drift.

Where a command would ask a model, the roster comes from `CODEGEN_CONFIG`, a config file
naming the loopback fake model server (the embedded model is CPU-heavy; its own path is tested
in test_local_models.py). `codegen models pull` runs for real: on a machine where `make models`
ran it only installs the engine into the new environment."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import pytest

from tests.cli_support import CLEAN_ENV, ROOT, FakeServerProcess, fenced

README = ROOT / "README.md"
MEDIAN = """def median(xs: list[float]) -> float:
    ordered = sorted(xs)
    middle = len(ordered) // 2
    if len(ordered) % 2:
        return ordered[middle]
    return (ordered[middle - 1] + ordered[middle]) / 2
"""


def quick_start() -> tuple[dict[str, str], str]:
    """The quick start section's files (python blocks whose first line is `# NAME.py`) and its
    shell commands (the sh block)."""
    text = README.read_text(encoding="utf-8")
    section = text.split("\n## Quick start\n", 1)[1].split("\n## ", 1)[0]
    blocks = re.findall(r"```(\w+)\n(.*?)```", section, re.DOTALL)
    files = {}
    for language, body in blocks:
        first = body.splitlines()[0]
        if language == "python" and re.fullmatch(r"# [\w.]+\.py", first):
            files[first[2:]] = body
    scripts = [body for language, body in blocks if language == "sh"]
    assert len(scripts) == 1, "the quick start has one sh block of commands"
    return files, scripts[0]


def test_the_quick_start_is_there_and_short() -> None:
    files, script = quick_start()
    assert "median.py" in files and "def median" in files["median.py"]
    commands = [line for line in script.splitlines() if line.strip()]
    assert commands[0].startswith("codegen --version")
    assert any(line.startswith("codegen solve median.py") for line in commands)
    assert len(README.read_text().splitlines()) < 200  # read in five minutes


def test_every_link_of_the_readme_leads_somewhere() -> None:
    links = re.findall(r"\]\(([^)#]+)(?:#[^)]*)?\)", README.read_text())
    local = [link for link in links if not link.startswith(("http://", "https://"))]
    assert local, "the README links to its docs"
    missing = [link for link in local if not (ROOT / link).exists()]
    assert missing == []


@pytest.mark.docker
@pytest.mark.slow
def test_every_quick_start_command_runs_as_written_from_a_fresh_venv(
    wheel_venv: Path, tmp_path: Path
) -> None:
    installed = wheel_venv  # the project's wheel in a fresh virtualenv (tests/install_support.py)
    files, script = quick_start()
    work = tmp_path / "newcomer"
    work.mkdir()
    for name, body in files.items():
        (work / name).write_text(body, encoding="utf-8")
    with FakeServerProcess({"models": {"coder": [fenced(MEDIAN)]}}, tmp_path) as server:
        roster = tmp_path / "fake-roster.toml"
        roster.write_text(
            f'[[workers]]\nmodel = "openai/coder"\napi_base = "{server.base_url}"\n\n'
            "[jury]\nenabled = false\n\n[sandbox]\ntiming_rounds = 3\n"
        )
        env = {
            k: v
            for k, v in os.environ.items()
            if k not in CLEAN_ENV and not k.startswith(("OPENAI_", "PYTHON", "VIRTUAL_ENV"))
        }
        env |= {
            "PATH": f"{installed / 'bin'}{os.pathsep}{env.get('PATH', '')}",
            "CODEGEN_CONFIG": str(roster),
            "LITELLM_LOCAL_MODEL_COST_MAP": "True",
            "COLUMNS": "120",
        }  # fmt: skip
        done = subprocess.run(
            ["bash", "-euo", "pipefail", "-x", "-c", script],
            cwd=work, env=env, capture_output=True, text=True, timeout=2400,
        )  # fmt: skip
        asked = server.requests()
    assert done.returncode == 0, f"{done.stderr[-4000:]}\n{done.stdout[-2000:]}"
    assert "version 0.4.0" in done.stdout
    assert asked, "the solve asked the (fake) model"
    assert "def median" in (work / "median_out.py").read_text()
    lines = done.stdout.splitlines()
    assert "4" in lines, done.stdout  # the python3 -c line: the written module imports and works
    assert f"# config file: {roster}" in done.stdout
    which = subprocess.run(["bash", "-c", "command -v codegen"], env=env, capture_output=True,
                           text=True)  # fmt: skip
    assert which.stdout.strip() == str(installed / "bin" / "codegen")  # the installed one ran
