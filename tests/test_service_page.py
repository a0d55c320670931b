"""The page at `/`, in headless Chromium, on a real `codegen serve` (a subprocess, Docker, the
loopback fake models with delays, so that a job runs for several seconds): a running job's log,
candidates and state change live, before and after it ends; the form counts the requests,
submits and cancels; a failed job shows its error; a new tenant sees what to do; the list pages
to the selected job. Screenshots of each state are saved (to $CODEGEN_SCREENSHOTS too, when
set: that is how docs/images/ is made)."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.browser_support import browser_page
from tests.cli_support import TWO_SUM_HASH, FakeServerProcess, fenced
from tests.service_support import ServiceProcess
from tests.test_service import HOSTILE_TEXT, TASK

pytestmark = pytest.mark.docker

ALICE, CAROL = "alice-page-token-0123456789", "carol-page-token-0123456789"
QUADRATIC = """def two_sum(nums, target):
    for i in range(len(nums)):
        for j in range(i + 1, len(nums)):
            if nums[i] + nums[j] == target:
                return [i, j]
    return []
"""
WRONG = "def two_sum(nums, target):\n    return [0, 1]\n"
PAGE_MODELS = {
    "coder": [fenced(TWO_SUM_HASH)],
    "paced": [{**fenced(TWO_SUM_HASH), "delay_s": 3}],
    "quad": [{**fenced(QUADRATIC), "delay_s": 2}],
    "wrong": [{**fenced(WRONG), "delay_s": 2.5}],
    "slow": [{**fenced(WRONG), "delay_s": 120}],
}
WATCHED = ["openai/paced", "openai/quad", "openai/wrong"]


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServiceProcess]:
    folder = tmp_path_factory.mktemp("page")
    env = {"CODEGEN_API_TOKENS": f"{ALICE},{CAROL}"}
    with (
        FakeServerProcess({"models": PAGE_MODELS}, folder) as models,
        ServiceProcess(folder / "service", models.base_url, env=env) as running,
    ):
        yield running


def _submit(service: ServiceProcess, models: list[str], task: dict = TASK) -> str:
    with service.client(ALICE) as http:
        answer = http.post("/v1/solve", json={"task": task, "models": models, "jury": False})
    assert answer.status_code == 202, answer.text
    return answer.json()["id"]


def _state(service: ServiceProcess, job_id: str) -> str:
    with service.client(ALICE) as http:
        return http.get(f"/v1/jobs/{job_id}").json()["state"]


def _screenshot(page: Page, name: str, folder: Path) -> Path:
    path = folder / f"page-{name}.png"
    page.screenshot(path=str(path))
    if os.environ.get("CODEGEN_SCREENSHOTS"):
        target = Path(os.environ["CODEGEN_SCREENSHOTS"])
        target.mkdir(parents=True, exist_ok=True)
        shutil.copy(path, target / path.name)
    return path


def test_the_event_parser_takes_any_line_ending_split_anywhere(service: ServiceProcess) -> None:
    """The server ends events with \\r\\n\\r\\n; the spec allows \\n and \\r too. Every split
    of the stream into two chunks gives the same events."""
    with browser_page(ALICE) as page:
        page.goto(service.url)
        found = page.evaluate(
            """() => {
              const results = [];
              for (const eol of ["\\r\\n", "\\n", "\\r"]) {
                const stream = [": ping", "event: state", 'data: {"type": "state"}', "",
                  "event: end", 'data: {"type":', 'data: "end"}', "", ""].join(eol);
                for (let cut = 0; cut <= stream.length; cut++) {
                  const seen = [];
                  const parser = sseParser((type, data) => seen.push(type + " " + data));
                  parser.push(stream.slice(0, cut));
                  parser.push(stream.slice(cut));
                  parser.end();
                  results.push(JSON.stringify(seen));
                }
              }
              return [...new Set(results)];
            }"""
        )
    assert found == ['["state {\\"type\\": \\"state\\"}","end {\\"type\\":\\n\\"end\\"}"]']


def test_a_new_tenant_sees_what_to_do(service: ServiceProcess, tmp_path: Path) -> None:
    _submit(service, ["openai/coder"])  # another tenant's job: never shown here
    with browser_page(CAROL) as page:
        page.goto(service.url)
        empty = page.locator("#empty")
        expect(empty).to_be_visible(timeout=20_000)
        expect(empty).to_contain_text("Solve")
        expect(empty).to_contain_text(f"--server {service.url}")
        expect(page.locator("#jobs tbody tr")).to_have_count(0)
        expect(page.locator("#plan")).to_contain_text("1 model request")
        _screenshot(page, "empty", tmp_path)
        assert page.problems == []


def test_the_page_follows_a_running_job_live(service: ServiceProcess, tmp_path: Path) -> None:
    job = _submit(service, WATCHED)
    with browser_page(ALICE) as page:
        page.goto(f"{service.url}/?job={job}")
        # while it runs: the state, the requests in the log, then verdicts, streamed
        expect(page.locator("#job-state")).to_have_text("running", timeout=60_000)
        log = page.locator("#log")
        expect(log).to_contain_text("request openai/paced", timeout=60_000)
        assert _state(service, job) == "running"
        verdict = page.locator("#candidates tbody tr", has_text="failed")
        expect(verdict).to_have_count(1, timeout=60_000)  # the wrong one, tested
        assert _state(service, job) == "running"  # the ranking still runs: seen live
        assert page.locator("#cancel").is_visible()
        _screenshot(page, "running", tmp_path)
        # and once it ends, without a reload
        expect(page.locator("#job-state")).to_have_text("done", timeout=180_000)
        assert _state(service, job) == "done"
        expect(log).to_contain_text("job done: winner")
        expect(page.locator("#winner")).to_contain_text("seen = {}")
        expect(page.locator("#candidates tbody tr.winner")).to_contain_text("openai/paced")
        expect(page.locator("#cancel")).to_be_hidden()
        ids = page.evaluate("() => [...document.querySelectorAll('[id]')].map((e) => e.id)")
        assert len(ids) == len(set(ids))  # a report never overwrites a control of the form
        expect(page.locator("input[name=jury]")).to_have_count(3)
        row = page.locator(f"#jobs tr[data-id='{job}']")
        expect(row).to_contain_text("by openai/paced", timeout=10_000)
        expect(row).to_have_class("job selected")
        _screenshot(page, "done", tmp_path)
        assert page.problems == []


def test_the_form_counts_submits_and_cancels(service: ServiceProcess) -> None:
    with browser_page(ALICE) as page:
        page.goto(service.url)
        expect(page.locator("#plan")).to_contain_text("1 model request", timeout=20_000)
        page.fill("#stub", TASK["stub"])
        page.click("#add-test")
        expect(page.locator(".test-name")).to_have_value("test_two_sum.py")
        page.fill(".test-source", TASK["tests"]["test_two_sum.py"])
        page.fill("#other-models", "openai/paced, openai/quad")
        page.fill("#samples", "2")
        expect(page.locator("#plan")).to_contain_text("6 model requests")
        page.fill("#other-models", "openai/no-such-model")
        expect(page.locator("#plan")).to_contain_text("'openai/no-such-model'")
        expect(page.locator("#solve")).to_be_disabled()
        page.uncheck("#models input[value='openai/coder']")
        page.fill("#samples", "")
        page.fill("#other-models", "openai/slow")
        expect(page.locator("#plan")).to_contain_text("1 model request")
        page.click("#solve")
        expect(page.locator("#job-state")).to_have_text("running", timeout=60_000)
        job = page.evaluate("new URLSearchParams(location.search).get('job')")
        assert _state(service, job) == "running"
        page.click("#cancel")
        expect(page.locator("#job-state")).to_have_text("cancelled", timeout=30_000)
        assert _state(service, job) == "cancelled"
        expect(page.locator("#job-notice")).to_contain_text("Cancelled")


def test_a_failed_job_shows_its_error(service: ServiceProcess, tmp_path: Path) -> None:
    raising = "from solution import two_sum\nraise RuntimeError('broken here')\n"
    job = _submit(service, ["openai/coder"], {**TASK, "tests": {"test_two_sum.py": raising}})
    hostile = f"raise RuntimeError({HOSTILE_TEXT!r})\n"  # an error message written to attack
    attack = _submit(service, ["openai/coder"], {**TASK, "tests": {"test_two_sum.py":
                     "from solution import two_sum\n" + hostile}})  # fmt: skip
    service.wait(job, token=ALICE)
    service.wait(attack, token=ALICE)
    with browser_page(ALICE) as page:
        page.goto(f"{service.url}/?job={job}")
        error = page.locator("#job-error")
        expect(error).to_contain_text("The problem was refused", timeout=20_000)
        expect(error).to_contain_text("RuntimeError: broken here")
        expect(page.locator(f"#jobs tr[data-of='{job}'] .err")).to_contain_text("broken here")
        expect(page.locator("#job-state")).to_have_text("failed")
        _screenshot(page, "failed", tmp_path)
        page.goto(f"{service.url}/?job={attack}")
        expect(error).to_contain_text(HOSTILE_TEXT, timeout=20_000)  # shown as text
        expect(page.locator(f"#jobs tr[data-of='{attack}'] .err")).to_contain_text("<img src=x")
        assert page.locator("img").count() == 0 and page.title() == "codegen"  # never obeyed


def test_the_list_pages_to_the_selected_job(service: ServiceProcess) -> None:
    """More jobs than a page holds: a link to an old job opens the page that holds it."""
    with service.client(ALICE) as http:
        total = int(http.get("/v1/jobs").headers["X-Total-Count"])
        for _ in range(max(0, 14 - total)):
            job = _submit(service, ["openai/slow"])
            http.delete(f"/v1/jobs/{job}")
            service.wait(job, token=ALICE)
        jobs = http.get("/v1/jobs", params={"limit": 200}).json()
        oldest = jobs[-1]["id"]
    first_of_its_page = (len(jobs) - 1) // 12 * 12 + 1  # the page holds 12 jobs
    assert first_of_its_page > 1
    with browser_page(ALICE) as page:
        page.goto(f"{service.url}/?job={oldest}")
        row = page.locator(f"#jobs tr[data-id='{oldest}']")
        expect(row).to_have_class("job selected", timeout=20_000)
        expect(page.locator("#page-label")).to_have_text(
            f"{first_of_its_page}–{len(jobs)} of {len(jobs)}"
        )
        page.click("#newer")
        expect(page.locator("#page-label")).to_contain_text("1–12 of")
        expect(row).to_have_count(0)


def test_the_page_asks_for_a_token_and_then_shows_only_that_tenants_jobs(
    service: ServiceProcess,
) -> None:
    mine = _submit(service, ["openai/coder"])
    with browser_page() as page:  # no token saved
        page.goto(service.url)
        expect(page.locator("#token")).to_be_visible(timeout=20_000)
        page.fill("#token-value", ALICE)
        page.click("#token button")
        expect(page.locator("#token")).to_be_hidden()
        expect(page.locator(f"#jobs tr[data-id='{mine}']")).to_have_count(1, timeout=20_000)
    with browser_page(CAROL) as page:
        page.goto(f"{service.url}/?job={mine}")  # another tenant's link: not found, not shown
        expect(page.locator("#pick")).to_contain_text("No such job", timeout=20_000)
        expect(page.locator("#job")).to_be_hidden()
    service.wait(mine, token=ALICE)
