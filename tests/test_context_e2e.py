"""A candidate in its module, end to end: `codegen solve path.py::name` and the pre-commit hook
on a function beside its helper, with the fake model server and the Docker sandbox. A
candidate that reuses the helper and one that re-implements it both pass, and `--fix` writes
only the body."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest

from tests.cli_support import FakeServerProcess, codegen, fenced
from tests.test_module_context import MODULE, REIMPLEMENTS, REUSES

pytestmark = pytest.mark.docker

TESTS = (
    "from text import slugify\n\n\ndef test_spaces():\n    assert slugify('  a  B c ') == 'a-b-c'\n"
)
CONFIG = 'personas = ["simplest"]\n\n[sandbox]\ntiming_rounds = 3\n'
FLAGS = ["--models", "openai/coder", "--samples", "3", "--no-jury", "--no-tester"]


def _repository(where: Path) -> Path:
    (where / "tests").mkdir(parents=True)
    (where / "text.py").write_text(MODULE)
    (where / "tests" / "test_text.py").write_text(TESTS)
    (where / "codegen.toml").write_text(CONFIG)
    subprocess.run(["git", "init", "-q"], cwd=where, check=True)
    return where


def test_a_candidate_that_reuses_the_helper_and_one_that_does_not_both_pass(
    tmp_path: Path,
) -> None:
    repo = _repository(tmp_path / "repo")
    script = {"models": {"coder": [fenced(REUSES), fenced(REIMPLEMENTS), fenced(REUSES)]}}
    with FakeServerProcess(script, tmp_path) as server:
        env = {"OPENAI_API_BASE": server.base_url}
        done = codegen("solve", "text.py::slugify", *FLAGS, "--json", cwd=repo, env=env)
        assert done.returncode == 0, done.stderr
        report = json.loads(done.stdout)
        by_code = {c["code"]: c for c in report["candidates"]}
        assert set(by_code) == {REUSES, REIMPLEMENTS}  # neither dropped before testing
        assert all(c["verdict"] == "passed" for c in by_code.values()), report["candidates"]
        assert by_code[REUSES]["tests_total"] == 2  # the doctest and the repository's test
        assert report["code"] == REUSES  # the snippet is the function, not the module
        prompt = server.requests()[0]["messages"][-1]["content"]
        assert "def slugify(text: str) -> str:" in prompt
        # the module's outline: what the candidate may reuse, as signatures
        assert 'def _words(text: str) -> list[str]:\n    """The lower-case words' in prompt
        assert "return re.findall" not in prompt
        (shown,) = [note for note in report["notes"] if note.startswith("context: ")]
        assert re.search(r"≈\d+ tokens in every prompt", shown), shown

        fixed = codegen("precommit", "text.py", "--fix", *FLAGS, cwd=repo, env=env)
    assert fixed.returncode == 1, fixed.stderr  # a change was made: the commit stops
    assert (repo / "text.py").read_text() == MODULE.replace(
        "    ...\n", "    return SEPARATOR.join(_words(text))\n"
    )
