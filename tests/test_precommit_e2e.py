"""The pre-commit hook for real: a temporary git repository, `pre-commit` from PyPI running this
project's hook definition on `git commit`, the fake OpenAI server as a process and the Docker
sandbox. Check-only fails with a diff, `--fix` writes the file, the cache saves the second LLM
call, and the commit of the reviewed file goes through."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.cli_support import CLEAN_ENV, ROOT, TWO_SUM_HASH, FakeServerProcess, fenced
from tests.install_support import GIT_IDENTITY

pytestmark = pytest.mark.docker

PRE_COMMIT = Path(sys.executable).with_name("pre-commit")
CODEGEN_SCRIPT = Path(sys.executable).with_name("codegen")
STUB = '''"""Small algorithms."""


def two_sum(nums: list[int], target: int) -> list[int]:  # codegen: solve
    """Indices [i, j], i < j, of the earliest pair adding up to target; [] if none.

    >>> two_sum([2, 7, 11, 15], 9)
    [0, 1]
    """
    raise NotImplementedError


def untouched(x):
    return x   # odd spacing that must survive
'''
TESTS = """from pkg.algo import two_sum


def test_pair_in_the_middle():
    assert two_sum([3, 2, 4], 6) == [1, 2]


def test_no_pair():
    assert two_sum([1, 2], 7) == []
"""


def _hook_config(args: list[str], project: tuple[Path, str] | None = None) -> str:
    """The hook as a user declares it: `repo: <this project>` at a commit; or, with no
    project, a `repo: local` hook running this checkout's installed CLI."""
    if project is not None:
        path, rev = project
        hook = {"id": "codegen", "args": args}
        return yaml.safe_dump({"repos": [{"repo": str(path), "rev": rev, "hooks": [hook]}]})
    (manifest,) = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())
    assert manifest["id"] == "codegen" and manifest["require_serial"] is True
    entry = manifest["entry"].replace("codegen", str(CODEGEN_SCRIPT), 1)
    hook = {**manifest, "entry": entry, "language": "system", "args": args}
    return yaml.safe_dump({"repos": [{"repo": "local", "hooks": [hook]}]})


@pytest.mark.skipif(not PRE_COMMIT.exists(), reason="pre-commit missing: pip install -e '.[dev]'")
@pytest.mark.parametrize("form", ["repo", "local"])
def test_git_commit_runs_the_hook(
    tmp_path: Path, form: str, project_snapshot: tuple[Path, str], pre_commit_home: Path
) -> None:
    hook_project = project_snapshot if form == "repo" else None
    repo = tmp_path / "repo"
    (repo / "pkg").mkdir(parents=True)
    (repo / "tests").mkdir()
    (repo / "pkg" / "algo.py").write_text(STUB)
    (repo / "tests" / "test_algo.py").write_text(TESTS)
    (repo / "codegen.toml").write_text('personas = ["simplest"]\n\n[sandbox]\ntiming_rounds = 3\n')
    args = ["--models", "openai/coder", "--no-jury"]
    (repo / ".pre-commit-config.yaml").write_text(_hook_config(args, hook_project))

    with FakeServerProcess({"models": {"coder": [fenced(TWO_SUM_HASH)]}}, tmp_path) as server:
        env = {k: v for k, v in os.environ.items() if k not in CLEAN_ENV}
        env |= {
            "OPENAI_API_BASE": server.base_url,
            "PRE_COMMIT_HOME": str(pre_commit_home),
            "LITELLM_LOCAL_MODEL_COST_MAP": "True",
            **GIT_IDENTITY,
        }

        def run(*command: str) -> subprocess.CompletedProcess[str]:
            return subprocess.run(
                command, cwd=repo, env=env, capture_output=True, text=True, timeout=600
            )

        assert run("git", "init", "-q").returncode == 0
        assert run(str(PRE_COMMIT), "install").returncode == 0
        run("git", "add", "-A")

        # 1. check-only: the commit stops, the diff is shown, the file is untouched
        first = run("git", "commit", "-m", "stub")
        output = first.stdout + first.stderr
        assert first.returncode == 1, output
        assert "+    seen = {}" in output and "-    raise NotImplementedError" in output
        assert "codegen precommit --fix" in output
        assert (repo / "pkg" / "algo.py").read_text() == STUB
        assert len(server.requests()) == 1
        cached = list((repo / ".git" / "codegen" / "solved").glob("*.json"))
        assert len(cached) == 1

        # 2. --fix: the file is written from the cache, no new LLM call; the commit still stops
        fix = _hook_config([*args, "--fix"], hook_project)
        (repo / ".pre-commit-config.yaml").write_text(fix)
        run("git", "add", ".pre-commit-config.yaml")
        second = run("git", "commit", "-m", "stub")
        output = second.stdout + second.stderr
        assert second.returncode == 1, output
        assert "files were modified by this hook" in output and "cached solution" in output
        assert len(server.requests()) == 1
        fixed = (repo / "pkg" / "algo.py").read_text()
        body = "".join(f"{line}\n" for line in TWO_SUM_HASH.splitlines()[1:])
        assert fixed == STUB.replace("    raise NotImplementedError\n", body)

        # 3. the reviewed file commits: nothing is marked and unsolved any more
        run("git", "add", "pkg/algo.py")
        third = run("git", "commit", "-m", "two_sum")
        assert third.returncode == 0, third.stdout + third.stderr
        assert len(server.requests()) == 1
    assert "two_sum" in run("git", "log", "--oneline").stdout


def _embedded_ready() -> bool:
    from codegen.local_models import DEFAULT_MODEL, engine_installed, is_assembled, lookup

    return engine_installed() and is_assembled(lookup(DEFAULT_MODEL))


@pytest.mark.model
@pytest.mark.slow
@pytest.mark.skipif(not PRE_COMMIT.exists(), reason="pre-commit missing: pip install -e '.[dev]'")
@pytest.mark.skipif(not _embedded_ready(), reason="run `codegen models pull` first")
def test_the_hook_solves_the_docs_example_with_the_embedded_model(
    tmp_path: Path, project_snapshot: tuple[Path, str], pre_commit_home: Path
) -> None:
    """What a newcomer does: `codegen models pull` once (any environment), then the hook in
    the documented `repo:` form with no roster configured, on the docs' example for the
    embedded models (docs/precommit.md; docs/defaults.md has how often they solve it).
    pre-commit installs codegen into a virtualenv of its own, without the engine: the engine
    comes from the user's cache. (That environment is the session's: another test of the
    `repo:` form may have installed it.)"""
    repo = tmp_path / "repo"
    repo.mkdir()
    stub = (ROOT / "examples" / "count_vowels" / "count_vowels.py").read_text()
    (repo / "text.py").write_text(stub)
    (repo / ".pre-commit-config.yaml").write_text(_hook_config([], project_snapshot))
    env = {k: v for k, v in os.environ.items() if k not in CLEAN_ENV and k[:7] != "OPENAI_"}
    env |= {"PRE_COMMIT_HOME": str(pre_commit_home),
            "LITELLM_LOCAL_MODEL_COST_MAP": "True", **GIT_IDENTITY}  # fmt: skip

    def run(*command: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            command, cwd=repo, env=env, capture_output=True, text=True, timeout=1800
        )

    assert run("git", "init", "-q").returncode == 0
    assert run(str(PRE_COMMIT), "install").returncode == 0
    run("git", "add", "-A")
    commit = run("git", "commit", "-m", "count_vowels")
    output = commit.stdout + commit.stderr
    assert commit.returncode == 1, output
    assert "not installed" not in output and "no passing candidate" not in output, output
    assert "-    raise NotImplementedError" in output and "codegen precommit --fix" in output
    assert (repo / "text.py").read_text() == stub  # check-only: the file is untouched
    # pre-commit's own environment holds codegen and no engine: it came from the cache
    environments = list(pre_commit_home.glob("repo*/py_env-*"))
    assert environments and not list(environments[0].glob("lib/python*/site-packages/xllamacpp"))
    assert list(environments[0].glob("lib/python*/site-packages/codegen"))
