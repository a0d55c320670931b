"""Two tenants on one real service cannot see each other's code, and a submitted problem runs
nothing on the service's host (issues #18 and #19), through the API as a client drives it."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import pytest

from tests.cli_support import FakeServerProcess
from tests.sandboxed import red_team_ii as rt
from tests.service_support import ServiceProcess

pytestmark = pytest.mark.docker

ALICE, BOB = "alice-" + "a" * 20, "bob-" + "b" * 20
TOTAL_TASK = {
    "stub": 'def total(n: int) -> int:\n    """The sum of 0 .. n-1."""\n',
    "tests": {"test_total.py": rt.SMALL_TESTS},
}


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> ServiceProcess:
    folder = tmp_path_factory.mktemp("isolation")
    env = {"CODEGEN_API_TOKENS": f"{ALICE},{BOB}"}
    with (
        FakeServerProcess({"models": {}}, folder) as models,
        ServiceProcess(folder / "service", models.base_url, env=env) as running,
    ):
        yield running


def _run(service: ServiceProcess, token: str, candidates: dict[str, str], task: dict) -> dict:
    with service.client(token) as http:
        answer = http.post("/v1/run", json={"task": task, "candidates": candidates})
    assert answer.status_code == 202, answer.text
    return service.wait(answer.json()["id"], token=token)


def test_a_tenants_candidate_cannot_read_another_tenants_code(service: ServiceProcess) -> None:
    secret = f"SECRET-{uuid.uuid4().hex}"
    for _ in range(3):  # every container of the pool has run Alice's code
        done = _run(service, ALICE, {"alice.py": rt.planted(secret)}, TOTAL_TASK)
        assert done["state"] == "done", done
    for _ in range(3):
        seen = _run(service, BOB, {"scanner.py": rt.MEMORY_SCANNER}, TOTAL_TASK)
        assert seen["state"] == "done", seen
        text = json.dumps(seen)
        assert secret not in text and "SECRET-" not in text, text[:2000]
        assert seen["report"]["scanner.py"]["verdict"] == "passed", text[:2000]


def test_a_problem_that_writes_on_the_host_writes_nothing(service: ServiceProcess) -> None:
    """Its annotation and its imports would write files if evaluated on the service's host."""
    marker = Path("/tmp") / f"codegen-host-{uuid.uuid4().hex}"
    annotation = f"open({str(marker) + '-annotation'!r}, 'w').write('x') and int or int"
    stub = (
        "import antigravity_is_not_here\n\n"
        f"def double(x: {annotation}) -> int:\n"
        '    """Twice x.\n\n    >>> double(2)\n    4\n    """\n'
    )
    task = {"stub": stub, "tests": {}}
    candidates = {"a.py": "def double(x):\n    return 2 * x\n",
                  "b.py": "def double(x):\n    return x + x\n"}  # fmt: skip
    with service.client(ALICE) as http:
        answer = http.post("/v1/rank", json={"task": task, "candidates": candidates, "rounds": 3})
    assert answer.status_code == 202, answer.text
    done = service.wait(answer.json()["id"], token=ALICE, timeout=300)
    assert done["state"] == "done", done
    assert done["report"]["winner"] in candidates
    assert not list(marker.parent.glob(marker.name + "*"))
