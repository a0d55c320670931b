"""`codegen sandbox …` as a user runs it: verdicts printed, errors as one line with an exit code."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.cli_support import ROOT, codegen

pytestmark = pytest.mark.docker


def test_run_prints_each_candidates_verdict() -> None:
    candidates = sorted(
        str(p.relative_to(ROOT)) for p in (ROOT / "examples/two_sum/candidates").glob("*.py")
    )
    done = codegen("sandbox", "run", "examples/two_sum", *candidates, "--json")
    assert done.returncode == 0, done.stderr
    verdicts = {
        Path(cid).stem: result["verdict"] for cid, result in json.loads(done.stdout).items()
    }
    assert verdicts["fast_hash"] == "passed"
    assert verdicts["slow_quadratic"] == "passed"
    assert verdicts["wrong_edge"] == "failed"
    assert verdicts["crashes"] in {"crashed", "error"}


def test_docker_down_is_one_line_and_exit_3() -> None:
    done = codegen(
        "sandbox",
        "run",
        "examples/two_sum",
        "examples/two_sum/candidates/fast_hash.py",
        env={"DOCKER_HOST": "unix:///nonexistent/docker.sock"},
    )
    assert done.returncode == 3
    assert done.stderr.strip().count("\n") == 0, done.stderr
    assert "Docker engine is not reachable" in done.stderr


def test_broken_test_file_is_one_line_and_exit_2(tmp_path: Path) -> None:
    (tmp_path / "problem.py").write_text('def solve(n: int) -> int:\n    """Double."""\n    ...\n')
    (tmp_path / "test_solve.py").write_text(
        "from solution import solve\n\ndef test_x(:\n    pass\n"
    )
    (tmp_path / "candidate.py").write_text("def solve(n):\n    return 2 * n\n")
    done = codegen("sandbox", "run", str(tmp_path), str(tmp_path / "candidate.py"))
    assert done.returncode == 2
    assert done.stderr.strip().count("\n") == 0, done.stderr
    assert "test_solve.py" in done.stderr


def test_missing_candidate_file_is_one_line_and_exit_2() -> None:
    done = codegen("sandbox", "run", "examples/two_sum", "no/such/candidate.py")
    assert done.returncode == 2
    assert "no such candidate file" in done.stderr
    assert "Traceback" not in done.stderr


def test_the_runtime_passes_through_to_docker() -> None:
    """`runtime` reaches every container's HostConfig (gVisor's runsc where installed; runc,
    the default runtime, here, since the test must not depend on gVisor)."""
    import asyncio

    from sandbox import Sandbox, engine

    async def scenario() -> set[str]:
        async with Sandbox(workers=1, runtime="runc") as pool:
            client = engine.connect()
            return {client.api.inspect_container(c.id)["HostConfig"]["Runtime"] for c in pool.all}

    assert asyncio.run(scenario()) == {"runc"}
