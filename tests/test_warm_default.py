"""Warm by default, and the answer as soon as it is known, with a real `codegen serve`
subprocess (tests/service_support.py), real Docker and the loopback fake model server:

- `codegen solve` and the pre-commit hook use a running local service without flags (and say
  so in one line on stderr); `--no-server`, another config, or a service killed without its
  cleanup keep the run here; a service with tokens gives its local clients one.
- The service's events name the winner (`Decided`) before what only enriches the report
  arrives; `fast` ends the job there.
"""

from __future__ import annotations

import json
import signal
import subprocess
from pathlib import Path

import httpx
import pytest

from tests.cli_support import ROOT, TWO_SUM_HASH, FakeServerProcess, codegen, fenced
from tests.service_support import ServiceProcess

pytestmark = pytest.mark.docker

TWO_SUM = str(ROOT / "examples" / "two_sum")


@pytest.fixture(scope="module")
def models(tmp_path_factory: pytest.TempPathFactory) -> FakeServerProcess:
    script = {"models": {"coder": [fenced(TWO_SUM_HASH)]}}
    with FakeServerProcess(script, tmp_path_factory.mktemp("models")) as server:
        yield server


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory, models: FakeServerProcess) -> ServiceProcess:
    with ServiceProcess(tmp_path_factory.mktemp("service"), models.base_url) as running:
        yield running


def _env(service: ServiceProcess, **extra: str) -> dict[str, str]:
    return {"OPENAI_API_BASE": service.env["OPENAI_API_BASE"],
            "CODEGEN_HOME": service.env["CODEGEN_HOME"], **extra}  # fmt: skip


def _jobs(service: ServiceProcess, token: str | None = None) -> int:
    with service.client(token) as http:
        return len(http.get("/v1/jobs").json())


def _records(service: ServiceProcess) -> list[Path]:
    return sorted((Path(service.env["CODEGEN_HOME"]) / "servers").glob("*.json"))


def test_solve_uses_the_running_service_without_flags_and_says_so(
    service: ServiceProcess,
) -> None:
    [record] = _records(service)
    assert json.loads(record.read_text())["url"] == service.url
    assert (record.stat().st_mode & 0o777) == 0o600
    before = _jobs(service)
    done = codegen("solve", TWO_SUM, "--models", "openai/coder", "--no-jury",
                   cwd=service.folder, env=_env(service))  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stdout == TWO_SUM_HASH
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert lines == [f"codegen: using the codegen serve at {service.url} "
                     f"(pid {service.process.pid}); --no-server runs here"]  # fmt: skip
    assert _jobs(service) == before + 1


def test_no_server_or_another_config_runs_here(service: ServiceProcess, tmp_path: Path) -> None:
    before = _jobs(service)
    here = codegen("solve", TWO_SUM, "--models", "openai/coder", "--no-jury", "--no-server",
                   cwd=service.folder, env=_env(service))  # fmt: skip
    elsewhere = codegen("solve", TWO_SUM, "--models", "openai/coder", "--no-jury",
                        cwd=tmp_path, env=_env(service))  # fmt: skip
    for done in (here, elsewhere):
        assert done.returncode == 0, done.stderr
        assert done.stdout == TWO_SUM_HASH and "using the codegen serve" not in done.stderr
    assert _jobs(service) == before


def test_the_pre_commit_hook_uses_it_too(service: ServiceProcess) -> None:
    from tests.test_precommit_e2e import STUB, TESTS

    repo = service.folder / "repo"  # under the service's config: the same one applies
    (repo / "pkg").mkdir(parents=True)
    (repo / "tests").mkdir()
    (repo / "pkg" / "algo.py").write_text(STUB)
    (repo / "tests" / "test_algo.py").write_text(TESTS)
    subprocess.run(["git", "init", "-q"], cwd=repo, check=True)
    before = _jobs(service)
    env = _env(service, CODEGEN_CACHE=str(repo / "cache"))
    done = codegen("precommit", "pkg/algo.py", "--models", "openai/coder", "--no-jury",
                   cwd=repo, env=env)  # fmt: skip
    assert done.returncode == 1, done.stderr  # a diff is proposed, as a formatter would
    assert "+    seen = {}" in done.stdout
    assert f"using the codegen serve at {service.url}" in done.stderr
    assert _jobs(service) == before + 1


def test_the_winner_is_announced_before_the_enrichment_and_fast_ends_there(
    service: ServiceProcess,
) -> None:
    """One passing candidate: decided by its tests, so the Decided event comes before its
    timing (measured for the report); with `fast`, the report stops at the decision."""
    folder = ROOT / "examples" / "two_sum"
    tests = {"test_two_sum.py": (folder / "test_two_sum.py").read_text()}
    task = {"stub": (folder / "problem.py").read_text(), "tests": tests}
    with service.client() as http:
        full = http.post("/v1/solve", json={"task": task, "models": ["openai/coder"],
                                             "jury": False}).json()  # fmt: skip
        fast = http.post("/v1/solve", json={"task": task, "models": ["openai/coder"],
                                             "jury": False, "fast": True}).json()  # fmt: skip
    events = service.events(full["id"])
    types = [e["type"] for e in events]
    decided = types.index("Decided")
    assert events[decided]["winner"] and events[decided]["after"] == "tests"
    later = [e.get("stage") for e in events[decided + 1 :] if e["type"] == "StageProgress"]
    assert "timing" in later, later  # the lone winner is timed for the report afterwards
    report = service.wait(full["id"])["report"]
    decision = report["ranking"]["decision"]
    assert decision["winner"] == report["winner"] == events[decided]["winner"]
    assert report["ranking"]["enriched"] and report["candidates"][0]["timing"]
    short = service.wait(fast["id"])["report"]
    assert short["winner"] == report["winner"] and not short["ranking"]["enriched"]
    assert short["ranking"]["timing_workload"].startswith("none: decided before timing")
    assert short["candidates"][0]["growth"] is None and report["candidates"][0]["growth"]
    assert short["phases_s"]["answer_s"] <= short["phases_s"]["total_s"] + 0.01


def test_a_service_with_tokens_gives_local_clients_one_and_a_killed_one_is_forgotten(
    models: FakeServerProcess, tmp_path: Path
) -> None:
    tokened = ServiceProcess(tmp_path / "svc", models.base_url,
                             env={"CODEGEN_API_TOKENS": "tok-alice-0123456789"})  # fmt: skip
    with tokened:
        [record] = _records(tokened)
        token = json.loads(record.read_text())["token"]
        assert token and token != "tok-alice-0123456789"
        assert httpx.get(f"{tokened.url}/v1/jobs").status_code == 401
        done = codegen("solve", TWO_SUM, "--models", "openai/coder", "--no-jury",
                       cwd=tokened.folder, env=_env(tokened))  # fmt: skip
        assert done.returncode == 0 and "using the codegen serve" in done.stderr, done.stderr
        assert _jobs(tokened, token) == 1 and _jobs(tokened, "tok-alice-0123456789") == 0
        tokened.stop(signal.SIGKILL)
        assert record.exists()  # no cleanup after kill -9
        here = codegen("solve", TWO_SUM, "--models", "openai/coder", "--no-jury",
                       cwd=tokened.folder, env=_env(tokened))  # fmt: skip
        assert here.returncode == 0, here.stderr
        assert "using the codegen serve" not in here.stderr and not record.exists()


def test_a_local_json_report_holds_everything_and_fast_ends_at_the_decision(
    models: FakeServerProcess, tmp_path: Path
) -> None:
    env = {"OPENAI_API_BASE": models.base_url, "CODEGEN_HOME": str(tmp_path / "home")}
    flags = ["--models", "openai/coder", "--no-jury", "--json"]
    full = codegen("solve", TWO_SUM, *flags, cwd=tmp_path, env=env)
    fast = codegen("solve", TWO_SUM, *flags, "--fast", cwd=tmp_path, env=env)
    assert full.returncode == fast.returncode == 0, full.stderr + fast.stderr
    report, short = json.loads(full.stdout), json.loads(fast.stdout)
    decided = [r["ranking"]["decision"]["after"] for r in (report, short)]
    assert decided == ["tests", "tests"]
    assert report["ranking"]["enriched"] and report["candidates"][0]["growth"]
    assert not short["ranking"]["enriched"] and short["candidates"][0]["growth"] is None
    assert short["winner"] == report["winner"] and short["code"] == TWO_SUM_HASH
    phases = report["phases_s"]
    assert phases["answer_s"] <= phases["total_s"] and phases["enrich_s"] > 0
