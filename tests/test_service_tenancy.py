"""Two tenants on one real `codegen serve` (a subprocess, Docker, the loopback fake models): each
sees only its own jobs, and another tenant's job answers every route exactly as a job that does
not exist; the admin token sees and may cancel everything; /metrics names no job's contents."""

from __future__ import annotations

import secrets
from pathlib import Path

import httpx
import pytest

from tests.cli_support import FakeServerProcess, codegen, one_line
from tests.service_support import ServiceProcess
from tests.test_service import HOSTILE_TEXT, MODELS, TASK

pytestmark = pytest.mark.docker

ALICE, BOB = "alice-" + "a" * 20, "bob-" + "b" * 20
ADMIN = secrets.token_urlsafe(24)
SECRET_NAME = "find_the_marmoset"  # a problem name that must not leak anywhere
SECRET_TASK = {
    "stub": TASK["stub"].replace("two_sum", SECRET_NAME),
    "tests": {"test_secret.py": TASK["tests"]["test_two_sum.py"].replace("two_sum", SECRET_NAME)},
}
TENANT_MODELS = {
    **MODELS,
    "helper": [{"content": "```python\n" + MODELS["coder"][0]["content"].split("```python\n")[1]
                .replace("two_sum", SECRET_NAME)}],
}  # fmt: skip


@pytest.fixture(scope="module")
def tenants(tmp_path_factory: pytest.TempPathFactory) -> ServiceProcess:
    folder = tmp_path_factory.mktemp("tenancy")
    (folder / "admin.token").write_text(ADMIN + "\n")
    env = {"CODEGEN_API_TOKENS": f"{ALICE},{BOB}"}
    flags = ("--admin-token-file", str(folder / "admin.token"))
    with (
        FakeServerProcess({"models": TENANT_MODELS}, folder) as models,
        ServiceProcess(folder / "service", models.base_url, *flags, env=env) as service,
    ):
        yield service


def _submit(service: ServiceProcess, token: str, model: str, task: dict = TASK) -> str:
    with service.client(token) as http:
        answer = http.post("/v1/solve", json={"task": task, "models": [model], "jury": False})
    assert answer.status_code == 202, answer.text
    return answer.json()["id"]


def _routes(http: httpx.Client, job_id: str) -> dict[str, httpx.Response]:
    """Every route that takes a job id, as the given caller."""
    with http.stream("GET", f"/v1/jobs/{job_id}/events") as events:
        events.read()
    return {
        "status": http.get(f"/v1/jobs/{job_id}"),
        "events": events,
        "cancel": http.delete(f"/v1/jobs/{job_id}"),
    }


def test_another_tenants_job_is_a_404_on_every_route(tenants: ServiceProcess) -> None:
    running = _submit(tenants, ALICE, "openai/slow")  # live: cancelling it would work
    finished = _submit(tenants, ALICE, "openai/helper", SECRET_TASK)
    tenants.wait(finished, token=ALICE)
    missing = secrets.token_hex(16)
    with tenants.client(BOB) as bob:
        nobody = {name: (r.status_code, r.text) for name, r in _routes(bob, missing).items()}
        for job_id in (running, finished):
            for name, answer in _routes(bob, job_id).items():
                said = answer.text.replace(job_id, missing)
                assert (answer.status_code, said) == nobody[name], (name, answer.text)
                assert nobody[name][0] == 404
        page = bob.get("/v1/jobs", params={"job": finished, "limit": 1})
        assert page.json() == [] and page.headers["X-Total-Count"] == "0"
        assert page.headers["X-Offset"] == "0"  # the other tenant's job found no page
    with tenants.client(ALICE) as alice:
        assert alice.get(f"/v1/jobs/{running}").json()["state"] == "running"  # not cancelled
        mine = alice.get("/v1/jobs").json()
        assert {running, finished} <= {job["id"] for job in mine}
        assert alice.delete(f"/v1/jobs/{running}").status_code == 200
    tenants.wait(running, token=ALICE)


def test_each_tenant_lists_only_its_own_jobs_and_the_admin_lists_all(
    tenants: ServiceProcess,
) -> None:
    alices = _submit(tenants, ALICE, "openai/coder")
    bobs = _submit(tenants, BOB, "openai/coder")
    tenants.wait(alices, token=ALICE)
    tenants.wait(bobs, token=BOB)
    with tenants.client(ALICE) as alice, tenants.client(BOB) as bob:
        seen_by_alice = {job["id"] for job in alice.get("/v1/jobs").json()}
        seen_by_bob = {job["id"] for job in bob.get("/v1/jobs").json()}
        same_key = {"Idempotency-Key": "shared-key"}  # keys are per tenant
        body = {"task": TASK, "models": ["openai/coder"], "jury": False}
        first = alice.post("/v1/solve", json=body, headers=same_key).json()["id"]
        second = bob.post("/v1/solve", json=body, headers=same_key).json()["id"]
    assert alices in seen_by_alice and bobs not in seen_by_alice
    assert bobs in seen_by_bob and alices not in seen_by_bob
    assert first != second
    with tenants.client(ADMIN) as admin:
        everyone = {job["id"] for job in admin.get("/v1/jobs", params={"limit": 200}).json()}
        assert {alices, bobs, first, second} <= everyone
        assert admin.get(f"/v1/jobs/{bobs}").json()["report"]["solved"]
        assert [e["type"] for e in tenants.events(alices, token=ADMIN)] == ["end"]
        slow = _submit(tenants, BOB, "openai/slow")
        assert admin.delete(f"/v1/jobs/{slow}").status_code == 200  # the admin may cancel
    assert tenants.wait(slow, token=BOB)["state"] == "cancelled"
    for job_id, token in ((first, ALICE), (second, BOB)):
        tenants.wait(job_id, token=token)


def test_metrics_carry_no_job_contents(tenants: ServiceProcess) -> None:
    done = _submit(tenants, ALICE, "openai/helper", SECRET_TASK)
    tenants.wait(done, token=ALICE)
    with tenants.client(BOB) as bob:
        metrics = bob.get("/metrics").text
    assert 'codegen_candidates_total{verdict="passed"}' in metrics  # counts are there
    assert 'model="other"' in metrics  # a model a tenant named is not
    for secret in (done, SECRET_NAME, "helper", "seen = {}", HOSTILE_TEXT, ALICE, BOB, ADMIN):
        assert secret not in metrics, secret
    log = Path(tenants.log).read_text()
    assert all(token not in log for token in (ALICE, BOB, ADMIN))


def test_tokens_are_checked_before_anything_else(tenants: ServiceProcess) -> None:
    for token in (None, "wrong", ALICE + "x", ALICE[:-1]):
        with tenants.client(token) as http:
            for answer in (http.get("/v1/jobs"), http.get("/metrics"),
                           http.post("/v1/solve", json={"task": TASK})):  # fmt: skip
                assert answer.status_code == 401, (token, answer.text)
                assert answer.headers["WWW-Authenticate"] == "Bearer"


@pytest.mark.parametrize(
    ("content", "says"),
    [
        (None, "cannot read the admin token"),
        ("short", "at least 16 characters"),
        (ALICE, "also a tenant token"),
    ],  # fmt: skip
)
def test_a_bad_admin_token_file_is_one_clear_error(
    tmp_path: Path, content: str | None, says: str
) -> None:
    path = tmp_path / "admin.token"
    if content is not None:
        path.write_text(content)
    done = codegen("serve", "--port", "1", "--admin-token-file", str(path),
                   env={"CODEGEN_API_TOKENS": ALICE})  # fmt: skip
    assert done.returncode == 2 and says in one_line(done.stderr)
