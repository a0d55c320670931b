"""`codegen serve` for real: the service as a subprocess, real HTTP, the Docker sandbox and a
loopback fake model server. Submit, stream, fetch and cancel; admission control, tokens and
malformed input; a `kill -9` mid-job; the CLI and the pre-commit hook as clients; the page in
headless Chromium; and no container left behind."""

from __future__ import annotations

import signal
import subprocess
import time
from pathlib import Path

import docker
import httpx
import pytest

from sandbox.engine import LABEL
from tests.cli_support import (
    ROOT,
    TWO_SUM_HASH,
    FakeServerProcess,
    codegen,
    fenced,
    one_line,
)
from tests.service_support import ServiceProcess
from tests.test_bench_report import CHROMIUM_FLAGS, _chromium

pytestmark = pytest.mark.docker

TWO_SUM = ROOT / "examples" / "two_sum"
TASK = {
    "stub": (TWO_SUM / "problem.py").read_text(),
    "tests": {"test_two_sum.py": (TWO_SUM / "test_two_sum.py").read_text()},
}
HOSTILE_TEXT = "<img src=x onerror=\"document.title='pwned'\">"
MODELS = {
    "coder": [fenced(TWO_SUM_HASH.replace("seen = {}", f"seen = {{}}  # {HOSTILE_TEXT}"))],
    "slow": [{"content": "```python\ndef two_sum(n, t):\n    return []\n```", "delay_s": 60}],
}


@pytest.fixture(scope="module")
def models(tmp_path_factory: pytest.TempPathFactory) -> FakeServerProcess:
    folder = tmp_path_factory.mktemp("models")
    with FakeServerProcess({"models": MODELS}, folder) as server:
        yield server


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory, models: FakeServerProcess) -> ServiceProcess:
    with ServiceProcess(tmp_path_factory.mktemp("service"), models.base_url) as running:
        yield running


def _solve(service: ServiceProcess, model: str = "openai/coder", **extra: object) -> httpx.Response:
    body = {"task": TASK, "models": [model], "jury": False, **extra}
    with service.client() as http:
        return http.post("/v1/solve", json=body)


def test_submit_stream_and_fetch_the_report(service: ServiceProcess) -> None:
    answer = _solve(service)
    assert answer.status_code == 202
    job = answer.json()
    events = service.events(job["id"])
    kinds = [e["type"] for e in events]
    assert {"GenerationProgress", "CandidateProgress", "StageProgress"} <= set(kinds)
    assert kinds[-1] == "end" and events[-1]["state"] == "done"
    view = service.wait(job["id"])
    report = view["report"]
    assert view["state"] == "done" and report["solved"] and "seen = {}" in report["code"]
    assert {"winner", "candidates", "totals", "phases_s", "ranking"} <= set(report)


def test_a_retried_submit_with_an_idempotency_key_is_the_same_job(service: ServiceProcess) -> None:
    body = {"task": TASK, "models": ["openai/coder"], "jury": False}
    with service.client() as http:
        first = http.post("/v1/solve", json=body, headers={"Idempotency-Key": "retry-1"})
        again = http.post("/v1/solve", json=body, headers={"Idempotency-Key": "retry-1"})
        other = http.post("/v1/solve", json={**body, "samples": 2},
                          headers={"Idempotency-Key": "retry-1"})  # fmt: skip
    assert first.status_code == 202 and again.status_code == 200
    assert again.json()["id"] == first.json()["id"]
    assert other.status_code == 409 and "Idempotency-Key" in other.json()["detail"]
    service.wait(first.json()["id"])


def test_cancel_stops_the_model_calls(service: ServiceProcess) -> None:
    job = _solve(service, "openai/slow").json()
    time.sleep(1.0)
    started = time.monotonic()
    with service.client() as http:
        assert http.delete(f"/v1/jobs/{job['id']}").status_code == 200
    view = service.wait(job["id"], timeout=20)
    assert view["state"] == "cancelled" and time.monotonic() - started < 10  # not the 60 s reply
    with service.client() as http:
        assert http.delete(f"/v1/jobs/{job['id']}").status_code == 409  # over already


@pytest.mark.parametrize(
    ("body", "says"),
    [
        ({"task": {"stub": "x = 1\n"}, "models": ["openai/coder"]}, "set `entry`"),
        (
            {"task": {"stub": "def f(x):\n    ...\n", "tests": {"test_f.py": "from p import f\n"}}},
            "never imports the candidate",
        ),
        ({"models": ["openai/coder"]}, "exactly one of `task` and `problem`"),
        ({"task": TASK, "samples": 0}, "samples"),
        ({"task": {**TASK, "tests": {"../evil.py": "x"}}}, "test_*.py"),
    ],
)
def test_malformed_input_is_422_with_one_clear_message(
    service: ServiceProcess, body: dict, says: str
) -> None:
    with service.client() as http:
        answer = http.post("/v1/solve", json=body)
    assert answer.status_code == 422
    assert says in answer.json()["detail"], answer.json()


def test_a_body_over_the_limit_is_413(service: ServiceProcess) -> None:
    with service.client() as http:
        answer = http.post("/v1/solve", content=b"{" + b" " * (5 << 20) + b"}",
                           headers={"content-type": "application/json"})  # fmt: skip
    assert answer.status_code == 413


def test_rank_and_run_on_their_own(service: ServiceProcess) -> None:
    candidates = {n: (TWO_SUM / "candidates" / f"{n}.py").read_text()
                  for n in ("fast_hash", "slow_quadratic", "wrong_edge")}  # fmt: skip
    with service.client() as http:
        ranked = http.post("/v1/rank", json={"task": TASK, "candidates": candidates, "rounds": 3})
        run = http.post("/v1/run", json={"task": TASK, "candidates": candidates})
    ranking = service.wait(ranked.json()["id"])["report"]
    runs = service.wait(run.json()["id"])["report"]
    assert ranking["winner"] == "fast_hash"
    assert {cid: r["verdict"] for cid, r in runs.items()} == {
        "fast_hash": "passed", "slow_quadratic": "passed", "wrong_edge": "failed"
    }  # fmt: skip


def test_health_readiness_models_and_metrics(service: ServiceProcess) -> None:
    with service.client() as http:
        assert http.get("/healthz").json() == {"status": "ok"}
        assert http.get("/readyz").json() == {"ready": True}
        models = http.get("/v1/models").json()
        metrics = http.get("/metrics").text
        docs = http.get("/docs")
    assert models["roster"] == ["openai/coder[simplest] ×1"] and models["requests"]["per_run"] == 1
    names = ["codegen_jobs_queued", "codegen_jobs_total", "codegen_sandbox_workers_busy",
             "codegen_model_latency_seconds", "codegen_model_cost_usd",
             "codegen_candidates"]  # fmt: skip
    assert all(name in metrics for name in names), metrics
    assert 'codegen_candidates_total{verdict="passed"}' in metrics
    assert docs.status_code == 200


def test_the_cli_runs_on_the_service_with_the_same_output_and_exit_codes(
    service: ServiceProcess, tmp_path: Path
) -> None:
    local = codegen("solve", str(TWO_SUM), "--models", "openai/coder", "--no-jury", "--json",
                    "--server", service.url)  # fmt: skip
    assert local.returncode == 0, local.stderr
    assert '"solved": true' in local.stdout and "seen = {}" in local.stdout
    down = codegen("solve", str(TWO_SUM), "--server", "http://127.0.0.1:9")
    assert down.returncode == 3 and "cannot reach the codegen service" in one_line(down.stderr)
    stub = tmp_path / "empty.py"
    stub.write_text('"""nothing"""\n')
    bad = codegen("solve", str(stub), "--server", service.url)
    assert bad.returncode == 2 and "no top-level function" in one_line(bad.stderr)


def test_the_page_shows_jobs_and_untrusted_text_as_text(
    service: ServiceProcess, tmp_path: Path
) -> None:
    job = _solve(service).json()
    service.wait(job["id"])
    page = f"{service.url}/?job={job['id']}"
    command = [_chromium(), *CHROMIUM_FLAGS, f"--user-data-dir={tmp_path / 'profile'}",
               "--virtual-time-budget=8000", "--dump-dom", page]  # fmt: skip
    dom = subprocess.run(command, capture_output=True, text=True, timeout=120, check=True).stdout
    assert job["id"][:8] in dom and "seen = {}" in dom  # the job, and the winner's code
    assert "&lt;img src=x" in dom and "<img src=x" not in dom  # shown, never obeyed
    assert "<title>codegen</title>" in dom  # the handler never ran (it would retitle the page)


def test_tokens_are_required_when_set_and_other_addresses_need_them(
    tmp_path: Path, models: FakeServerProcess
) -> None:
    refused = codegen("serve", "--host", "0.0.0.0", "--port", "1")
    assert refused.returncode == 2 and "CODEGEN_API_TOKENS" in one_line(refused.stderr)
    env = {"CODEGEN_API_TOKENS": "s3cret,other"}
    with ServiceProcess(tmp_path, models.base_url, env=env) as guarded:
        with guarded.client() as http:
            assert http.get("/v1/jobs").status_code == 401
        with guarded.client("wrong") as http:
            assert http.get("/v1/jobs").status_code == 401
        with guarded.client("other") as http:
            assert http.get("/v1/jobs").status_code == 200
        mine = codegen("solve", str(TWO_SUM), "--server", guarded.url, "--models", "openai/coder",
                       "--no-jury", env={"CODEGEN_API_TOKEN": "s3cret"})  # fmt: skip
        assert mine.returncode == 0, mine.stderr
    assert "s3cret" not in guarded.log.read_text()


def test_a_flood_gets_429_with_retry_after(tmp_path: Path, models: FakeServerProcess) -> None:
    flags = ("--max-running", "1", "--max-pending", "2")
    with ServiceProcess(tmp_path, models.base_url, *flags) as small:
        answers = [_solve(small, "openai/slow") for _ in range(4)]
        codes = [a.status_code for a in answers]
        assert codes[:2] == [202, 202] and set(codes[2:]) == {429}
        assert answers[2].headers["Retry-After"].isdigit()
        with small.client() as http:
            for answer in answers[:2]:
                http.delete(f"/v1/jobs/{answer.json()['id']}")


def test_kill_9_mid_job_then_restart(tmp_path: Path, models: FakeServerProcess) -> None:
    """The running job reads `interrupted` (reason `lost`), the finished one is intact, a
    retry under the same Idempotency-Key starts a new run that says so, nothing is left."""
    service = ServiceProcess(tmp_path, models.base_url).start()
    key = {"Idempotency-Key": "retry-after-crash"}
    body = {"task": TASK, "models": ["openai/slow"], "jury": False}
    try:
        done = _solve(service).json()
        finished = service.wait(done["id"])
        with service.client() as http:
            running = http.post("/v1/solve", json=body, headers=key).json()
        time.sleep(1.5)
        pid = service.process.pid
        service.stop(signal.SIGKILL)
        assert _containers_of(pid, wait=30) == []  # the pool's containers removed themselves
        service.start()
        with service.client() as http:
            lost = http.get(f"/v1/jobs/{running['id']}").json()
            again = http.get(f"/v1/jobs/{done['id']}").json()
            retried = http.post("/v1/solve", json=body, headers=key)
            replayed = http.post("/v1/solve", json=body, headers=key)
            http.delete(f"/v1/jobs/{retried.json()['id']}")
        assert lost["state"] == "interrupted" and lost["reason"] == "lost"
        assert again["state"] == "done" and again["report"] == finished["report"]
        assert retried.status_code == 202 and retried.json()["retry_of"] == running["id"]
        assert retried.headers["Codegen-Retry-Of"] == running["id"]
        assert retried.json()["id"] != running["id"] and not retried.json()["replayed"]
        assert replayed.status_code == 200 and replayed.json()["id"] == retried.json()["id"]
        assert replayed.json()["replayed"]
    finally:
        pid = service.process.pid if service.process else 0
        service.stop()
    assert _containers_of(pid, wait=30) == []


def _containers_of(pid: int, wait: float) -> list[str]:
    client = docker.from_env()
    end = time.monotonic() + wait
    while True:
        left = [c["Id"] for c in client.api.containers(all=True, filters={"label": LABEL})
                if f":{pid}:" in (c.get("Labels") or {}).get("codegen.owner", "")]  # fmt: skip
        if not left or time.monotonic() > end:
            return left
        time.sleep(0.5)


def test_the_pre_commit_hook_solves_on_the_service(service: ServiceProcess, tmp_path: Path) -> None:
    from tests.test_precommit_e2e import STUB, TESTS

    (tmp_path / "pkg").mkdir()
    (tmp_path / "tests").mkdir()
    (tmp_path / "pkg" / "algo.py").write_text(STUB)
    (tmp_path / "tests" / "test_algo.py").write_text(TESTS)
    subprocess.run(["git", "init", "-q"], cwd=tmp_path, check=True)
    with service.client() as http:
        before = len(http.get("/v1/jobs").json())
    env = {"CODEGEN_SERVER": service.url, "CODEGEN_CACHE": str(tmp_path / "cache")}
    flags = ["--models", "openai/coder", "--no-jury"]
    done = codegen("precommit", "pkg/algo.py", *flags, cwd=tmp_path, env=env)
    assert done.returncode == 1, done.stderr  # a diff is proposed, as a formatter would
    assert "+    seen = {}" in done.stdout and "solved by openai/coder" in done.stderr
    with service.client() as http:
        assert len(http.get("/v1/jobs").json()) == before + 1  # it ran there, not here


@pytest.mark.slow
def test_the_service_drives_a_ray_cluster(
    tmp_path: Path, models: FakeServerProcess, ray_cluster: str
) -> None:
    """`codegen serve --executor ray`: every job's sandbox work on the cluster's actors, one
    warm pool on each node (both nodes run on this machine, each with its own actor)."""
    flags = ("--executor", "ray", "--ray-address", ray_cluster)
    before = _owners()
    with ServiceProcess(tmp_path, models.base_url, *flags) as on_ray:
        # other processes' containers on a shared engine are not counted: only Ray workers'
        owners = {o for o in _owners() - before if _is_ray_worker(o)}
        solved = _solve(on_ray).json()
        candidates = {n: (TWO_SUM / "candidates" / f"{n}.py").read_text()
                      for n in ("fast_hash", "slow_quadratic", "wrong_edge")}  # fmt: skip
        with on_ray.client() as http:
            runs = [http.post("/v1/run", json={"task": TASK, "candidates": candidates}).json()
                    for _ in range(3)]  # fmt: skip
        assert on_ray.wait(solved["id"])["report"]["solved"]
        for run in runs:
            verdicts = {c: r["verdict"] for c, r in on_ray.wait(run["id"])["report"].items()}
            assert verdicts["fast_hash"] == "passed" and verdicts["wrong_edge"] == "failed"
    assert len(owners) == 2, owners  # the pools of two actors, one per node


def _owners() -> set[str]:
    containers = docker.from_env().api.containers(filters={"label": LABEL})
    return {(c.get("Labels") or {}).get("codegen.owner", "") for c in containers} - {""}


def _is_ray_worker(owner: str) -> bool:
    """An owner label (host:pid:start) whose process is a Ray worker (its title is ray::…)."""
    try:
        return Path(f"/proc/{owner.split(':')[1]}/cmdline").read_bytes().startswith(b"ray::")
    except (IndexError, OSError):
        return False
