"""A job's life on a real `codegen serve` (a subprocess, Docker, the loopback fake models), and
what is refused at the door: SIGTERM drains (a job that can finish does, the others end
`interrupted`, reason `shutdown`, and every follower gets its `end`); an unknown model, an
oversized body (chunked too) and a syntax error are refused at once, naming what is wrong and
no server path; every answer carries a CSP and refuses framing; `/docs` works offline.
(`codegen solve --optimise N --server URL`: tests/test_optimise.py.)"""

from __future__ import annotations

import json
import re
import signal
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.browser_support import browser_page
from tests.cli_support import TWO_SUM_HASH, FakeServerProcess, fenced
from tests.service_support import ServiceProcess
from tests.test_service import MODELS, TASK

pytestmark = pytest.mark.docker

LIFECYCLE_MODELS = {
    **MODELS,
    "medium": [{**fenced(TWO_SUM_HASH), "delay_s": 4}],  # finishes well within the grace
}


@pytest.fixture(scope="module")
def models(tmp_path_factory: pytest.TempPathFactory) -> FakeServerProcess:
    with FakeServerProcess({"models": LIFECYCLE_MODELS}, tmp_path_factory.mktemp("m")) as server:
        yield server


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory, models: FakeServerProcess) -> ServiceProcess:
    with ServiceProcess(tmp_path_factory.mktemp("service"), models.base_url) as running:
        yield running


class Follower(threading.Thread):
    """A client following a job's events in the background, as the page and the CLI do."""

    def __init__(self, service: ServiceProcess, job_id: str) -> None:
        super().__init__(daemon=True)
        self.service, self.job_id = service, job_id
        self.events: list[dict[str, Any]] = []
        self.error: Exception | None = None

    def run(self) -> None:
        try:
            with (
                httpx.Client(base_url=self.service.url, timeout=None) as http,
                http.stream("GET", f"/v1/jobs/{self.job_id}/events") as stream,
            ):
                for line in stream.iter_lines():
                    if line.startswith("data:"):
                        self.events.append(json.loads(line[5:]))
        except httpx.HTTPError as error:
            self.error = error

    def saw(self, kind: str) -> bool:
        return any(event["type"] == kind for event in self.events)


def _solve(service: ServiceProcess, model: str, **headers: str) -> httpx.Response:
    body = {"task": TASK, "models": [model], "jury": False}
    with service.client() as http:
        return http.post("/v1/solve", json=body, headers=headers)


def test_sigterm_drains_running_jobs_and_every_follower_gets_end(
    tmp_path: Path, models: FakeServerProcess
) -> None:
    service = ServiceProcess(tmp_path, models.base_url, grace_s=45).start()
    try:
        quick = _solve(service, "openai/medium").json()["id"]
        stuck = _solve(service, "openai/slow").json()["id"]
        followers = {job: Follower(service, job) for job in (quick, stuck)}
        for follower in followers.values():
            follower.start()
        _until(lambda: all(f.saw("GenerationProgress") for f in followers.values()), 60)
        service.process.send_signal(signal.SIGTERM)
        _until(lambda: httpx.get(f"{service.url}/readyz").status_code == 503, 10)
        refused = _solve(service, "openai/coder")
        assert refused.status_code == 503 and "shutting down" in refused.json()["detail"]
        assert refused.headers["Retry-After"].isdigit()
        assert service.process.wait(timeout=120) == 0
        for follower in followers.values():
            follower.join(timeout=10)
        ends = {job: f.events[-1] for job, f in followers.items()}
        assert ends[quick]["type"] == "end" and ends[quick]["state"] == "done", ends
        assert ends[stuck] == {**ends[stuck], "type": "end", "state": "interrupted",
                               "reason": "shutdown"}  # fmt: skip
        service.start()
        with service.client() as http:
            assert http.get(f"/v1/jobs/{quick}").json()["report"]["solved"]
            view = http.get(f"/v1/jobs/{stuck}").json()
        assert view["state"] == "interrupted" and view["reason"] == "shutdown"
    finally:
        service.stop()


def _until(condition: Any, timeout: float) -> None:
    end = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < end, "timed out waiting"
        time.sleep(0.1)


@pytest.mark.parametrize(
    ("asked", "named"),
    [
        (["openai/no-such-model"], "openai/no-such-model"),  # its server does not list it
        (["openai/coder", "nonsense-model"], "nonsense-model"),  # litellm cannot route it
        (["qwen2.5-coder-1.5b"], "qwen2.5-coder-1.5b"),  # an embedded model it does not run
    ],
)
def test_an_unknown_model_is_refused_at_once(
    service: ServiceProcess, asked: list[str], named: str
) -> None:
    with service.client() as http:
        jobs_before = http.get("/v1/jobs").headers["X-Total-Count"]
        started = time.monotonic()
        answer = http.post("/v1/solve", json={"task": TASK, "models": asked})
        took = time.monotonic() - started
        plan = http.post("/v1/plan", json={"models": asked})
        jobs_after = http.get("/v1/jobs").headers["X-Total-Count"]
    assert answer.status_code == 422 and f"'{named}'" in answer.json()["detail"], answer.text
    assert plan.status_code == 422 and f"'{named}'" in plan.json()["detail"]
    assert jobs_after == jobs_before  # no job, no slot used
    assert took < 10, took  # answered at the door, not by a job that fails later


def test_the_plan_counts_the_requests_before_submitting(service: ServiceProcess) -> None:
    with service.client() as http:
        plan = http.post("/v1/plan", json={"models": ["openai/coder", "openai/medium"],
                                          "samples": 3}).json()  # fmt: skip
        default = http.post("/v1/plan", json={}).json()
    assert plan["requests"]["per_run"] == 6 and "6 request(s)" in plan["describe"]
    assert default["requests"]["per_run"] == 1 and default["roster"] == [
        "openai/coder[simplest] ×1"
    ]


def test_any_body_over_the_limit_is_413(service: ServiceProcess) -> None:
    big = b'{"task": {"stub": "' + b"x" * (5 << 20) + b'"}}'

    def chunks() -> Any:
        for start in range(0, len(big), 64 << 10):
            yield big[start : start + (64 << 10)]

    with service.client() as http:
        declared = http.post("/v1/solve", content=big, headers={"content-type": "application/json"})
        chunked = http.post("/v1/solve", content=chunks(),
                            headers={"content-type": "application/json"})  # fmt: skip
        assert http.get("/healthz").status_code == 200
    assert declared.status_code == 413 and chunked.status_code == 413, chunked.text
    assert "over" in chunked.json()["detail"]


@pytest.mark.parametrize(
    ("task", "says"),
    [
        ({"stub": "def two_sum(nums, target:\n    ...\n"}, "stub:1: syntax error at column"),
        (
            {**TASK, "tests": {"test_two_sum.py": "from solution import two_sum\n\ndef test(:\n"}},
            "test_two_sum.py:3: syntax error at column 10",
        ),
        ({"stub": "def a(x):\n    ...\n\ndef b(y):\n    ...\n"}, "set `entry`"),
        ({"stub": "Add two numbers, please."}, "set `entry`"),
        ({"stub": "Add two numbers.", "entry": "not a name"}, "is not a Python name"),
    ],
)
def test_bad_problems_are_named_in_the_requests_terms(
    service: ServiceProcess, task: dict, says: str
) -> None:
    with service.client() as http:
        answer = http.post("/v1/solve", json={"task": task, "models": ["openai/coder"]})
    detail = answer.json()["detail"]
    assert answer.status_code == 422 and says in detail, detail
    assert "--entry" not in detail and not re.search(r"/(tmp|work|root|home)/", detail), detail


def test_a_broken_test_file_fails_the_job_without_a_server_path(service: ServiceProcess) -> None:
    tests = {"test_two_sum.py": "from solution import two_sum\nraise RuntimeError('broken')\n"}
    job = _solve_task(service, {**TASK, "tests": tests})
    view = service.wait(job)
    assert view["state"] == "failed" and view["error"]["kind"] == "bad_input", view
    assert "broken" in view["error"]["message"]
    assert not re.search(r"/(tmp|work|root|home)/", json.dumps(view)), view


def _solve_task(service: ServiceProcess, task: dict) -> str:
    with service.client() as http:
        answer = http.post("/v1/solve", json={"task": task, "models": ["openai/coder"]})
    assert answer.status_code == 202, answer.text
    return answer.json()["id"]


def test_every_answer_has_a_csp_and_refuses_framing(service: ServiceProcess) -> None:
    with service.client() as http:
        answers = [http.get("/"), http.get("/v1/jobs"), http.get("/assets/page.js"),
                   http.get("/docs"), http.post("/v1/solve", json={}),
                   http.get("/v1/jobs/nope")]  # fmt: skip
    for answer in answers:
        csp = answer.headers["Content-Security-Policy"]
        assert "frame-ancestors 'none'" in csp and "default-src 'none'" in csp
        assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
        assert answer.headers["X-Frame-Options"] == "DENY"
        assert answer.headers["X-Content-Type-Options"] == "nosniff"
    assert "<script>" not in answers[0].text  # the page's script is a file of its own


def test_docs_work_offline(service: ServiceProcess) -> None:
    """Swagger UI renders from the service's own assets; every other host is unreachable."""
    elsewhere: list[str] = []
    with browser_page() as page:

        def route(request: Any) -> None:
            if request.request.url.startswith(service.url):
                request.continue_()
            else:
                elsewhere.append(request.request.url)
                request.abort()

        page.route("**/*", route)
        page.goto(f"{service.url}/docs")
        page.wait_for_selector(".swagger-ui .info .title", timeout=30_000)
        solve = page.locator(".opblock-summary-path", has_text="/v1/solve").first
        solve.wait_for(timeout=30_000)
        title = page.inner_text(".swagger-ui .info .title")
        assert "codegen" in title
        assert elsewhere == [] and not [p for p in page.problems if "Refused" in p], page.problems


def test_a_loopback_service_answers_only_loopback_host_names(service: ServiceProcess) -> None:
    """A web page that rebinds its own name to 127.0.0.1 still sends its own Host header."""
    with service.client() as http:
        rebound = http.get("/v1/jobs", headers={"Host": "attacker.example"})
        local = http.get("/v1/jobs", headers={"Host": f"localhost:{service.port}"})
    assert rebound.status_code == 400 and local.status_code == 200


@pytest.mark.parametrize(
    ("body", "content_type", "says"),
    [
        (b'{"task": {"stub": "def f(x):', "application/json", "not valid JSON (at character"),
        (b"[]", "application/json", "must be a JSON object"),
        (b'{"task": {"stub": "def f(x): ..."}}', "text/plain", "Content-Type: application/json"),
    ],
)
def test_a_body_that_is_not_a_json_object_is_one_clear_422(
    service: ServiceProcess, body: bytes, content_type: str, says: str
) -> None:
    with service.client() as http:
        answer = http.post("/v1/solve", content=body, headers={"content-type": content_type})
    assert answer.status_code == 422 and says in answer.json()["detail"], answer.text
