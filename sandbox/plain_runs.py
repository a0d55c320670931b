"""Plain ``pytest`` in a fresh container, the candidate in the tests' own process: the strict
reference's second run (:mod:`sandbox.strict`) and, in every backend, a project's own tests
(``RunJob.repository_tests``). Being in one process with the tests, a candidate could forge
such a verdict, so it only ever takes a pass away: :func:`judged_by_plain_pytest`.
"""

from __future__ import annotations

import asyncio
import re
import signal
import xml.etree.ElementTree as ElementTree
from typing import Any

from .container import ContainerLost, WarmContainer
from .errors import SandboxError
from .faults import WireFault, container_lost, verdict_named
from .models import Limits, Project, RunJob, RunResult, TestOutcome, TestStatus, Verdict

PLAIN_COMMAND = ["python3", "-s", "-P", "-m", "codegen_harness.plain"]
REPOSITORY_TESTS = "the project's tests"  # how a verdict of theirs is told in its message
PYTEST_NO_TESTS = 5
HOST_MARGIN_S = 5.0


async def fresh_exchange(
    client: Any,
    image: str,
    message: dict,
    limits: Limits,
    *,
    command: list[str] | None = None,
    cpuset: str | None = None,
    runtime: str | None = None,
    project: str | None = None,
) -> dict | WireFault:
    """One job in a fresh hardened container, removed after it: its raw answer, or the fault
    of a lost container."""
    container = WarmContainer(client, image, limits, cpuset, runtime, command, project)
    try:
        await asyncio.to_thread(container.start)
        return await asyncio.to_thread(
            container.exchange, message, limits.wall_seconds + HOST_MARGIN_S
        )
    except ContainerLost as lost:
        return container_lost(str(lost), None, lost.deadline)
    finally:
        await asyncio.to_thread(container.close)


def check_project(job: RunJob, project: Project | None) -> None:
    """A job that names a project's module or tests needs the backend's project mounted."""
    if project is None and (job.module is not None or job.repository_tests):
        raise SandboxError("the job names a project's module, but no project is mounted")


def plain_message(job: RunJob) -> dict:
    """The plain-pytest job of the problem's tests for ``job``'s candidate."""
    message = job.model_dump(mode="json", exclude={"repository_tests", "module"})
    return message | {"module": job.module.message() if job.module else None}


def repository_message(job: RunJob) -> dict:
    """The plain-pytest job of a project's own tests for ``job``'s candidate."""
    assert job.module is not None, "a project's tests need the candidate's module"
    return {
        "candidate": job.candidate,
        "module": job.module.message(),
        "repository_tests": list(job.repository_tests),
        "limits": job.limits.model_dump(),
        "seed": job.seed,
    }


def judged_by_plain_pytest(isolated: RunResult, plain: dict | WireFault) -> RunResult:
    """The isolated verdict, unless plain pytest fails what the isolated run passed."""
    if not isolated.passed:
        return isolated
    verdict, message = plain_verdict(plain)
    if verdict is Verdict.PASSED:
        return isolated
    return isolated.model_copy(update={"verdict": verdict, "message": f"plain pytest: {message}"})


def judged_by_repository_tests(isolated: RunResult, plain: dict | WireFault) -> RunResult:
    """The isolated verdict, unless one of the project's own tests failed, or the candidate hit
    a limit: tests that could not run here (a conftest importing what the sandbox lacks, a
    fixture erring in its setup, pytest refusing the project's options) say nothing of the
    candidate, and never take a pass away."""
    if not isolated.passed:
        return isolated
    verdict, message = plain_verdict(plain)
    if verdict in (Verdict.PASSED, Verdict.ERROR):
        return isolated
    return isolated.model_copy(
        update={"verdict": verdict, "message": f"{REPOSITORY_TESTS}: {message}"}
    )


def plain_verdict(plain: dict | WireFault) -> tuple[Verdict, str]:
    """What plain pytest said, as a verdict and one line."""
    if isinstance(plain, WireFault):
        return plain.verdict, plain.message
    if "exit_code" not in plain:
        return verdict_named(plain.get("verdict", "crashed")), plain.get("message", "no answer")
    if plain.get("timed_out"):
        return Verdict.TIMEOUT, "ran past the job's wall-clock limit"
    killed = plain.get("signal") or 0
    if killed:
        by: dict[int, Verdict] = {signal.SIGXCPU: Verdict.TIMEOUT,
                                  signal.SIGXFSZ: Verdict.OUTPUT_LIMIT,
                                  signal.SIGKILL: Verdict.MEMORY_LIMIT}  # fmt: skip
        return by.get(killed, Verdict.CRASHED), f"pytest died of signal {killed}"
    outcomes = junit_outcomes(plain.get("report", ""))
    code = plain["exit_code"]
    if code == 0 and outcomes and all(o.status is TestStatus.PASSED for o in outcomes):
        return Verdict.PASSED, ""
    bad = [o for o in outcomes if o.status is not TestStatus.PASSED]
    if code == PYTEST_NO_TESTS or (code != 0 and not bad):
        tail = plain.get("output", "").strip().splitlines()[-1:] or [f"exit code {code}"]
        return Verdict.ERROR, tail[0][:300]
    status = Verdict.ERROR if all(o.status is TestStatus.ERROR for o in bad) else Verdict.FAILED
    first = bad[0] if bad else None
    said = f"{first.name}: {first.message}" if first else f"exit code {code}"
    return status, f"{len(bad)} of {len(outcomes)} tests {status}: {said}"[:500]


def junit_outcomes(report: str) -> list[TestOutcome]:
    """Each test case of pytest's JUnit XML, named as the harness names tests
    (``tests/test_x.py::test_y``)."""
    try:
        root = ElementTree.fromstring(report) if report.strip() else None
    except ElementTree.ParseError:
        return []
    outcomes = []
    for case in root.iter("testcase") if root is not None else []:
        module = (case.get("classname") or "").replace(".", "/")
        name = f"{module}.py::{case.get('name', '')}"
        status, message = TestStatus.PASSED, ""
        for kind, found in (("failure", TestStatus.FAILED), ("error", TestStatus.ERROR)):
            element = case.find(kind)
            if element is not None:
                status = found
                message = re.sub(r"\s+", " ", element.get("message") or "")[:300]
                break
        outcomes.append(TestOutcome(name=name, status=status, message=message))
    return outcomes
