"""What comes back when a job went wrong in a way that is no verdict of the candidate's tests:
read from the harness's answer (or from the host's view of a lost container) in one place,
:func:`read_answer`, into a :class:`WireFault`. No backend looks for magic keys or strings.

- ``problem``: the problem's tests do not load (every candidate alike): ProblemError.
- ``harness``: the harness itself failed (its internal error): the sandbox's fault.
- ``lost``: the container died or broke the protocol: the sandbox's fault.
- ``deadline``: the job ran past the host's deadline: the candidate's doing.
- ``job_failed``: the job ended without its answer, the harness saying why (a timing job a
  candidate broke, a container left dirty).

``culprit`` names the candidate that was running, when one is known: a timing job is run
again without it.
"""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict

from .errors import ProblemError
from .models import CallOutcome, RunResult, Verdict

# The harness's answer keys that say a job went wrong (sandbox/harness/runner.py sends them).
PROBLEM_KEY = "problem_error"
INTERNAL_KEY = "internal_error"
CULPRIT_KEY = "culprit"


class FaultKind(StrEnum):
    PROBLEM = "problem"
    HARNESS = "harness"
    LOST = "lost"
    DEADLINE = "deadline"
    JOB_FAILED = "job_failed"


class WireFault(BaseModel):
    """A job that has no answer of its own: why, the verdict it amounts to, and who ran."""

    model_config = ConfigDict(frozen=True)

    kind: FaultKind
    verdict: Verdict
    message: str
    culprit: str | None = None

    @property
    def by_sandbox(self) -> bool:
        """The sandbox failed, not the candidate: worth running the job once more."""
        return self.kind in (FaultKind.HARNESS, FaultKind.LOST) and self.culprit is None

    def raise_problem(self) -> None:
        if self.kind is FaultKind.PROBLEM:
            raise ProblemError(self.message)

    def run_result(self) -> RunResult:
        """The run's result: the fault's verdict, marked the sandbox's when it is."""
        sandbox_fault = self.kind in (FaultKind.HARNESS, FaultKind.LOST)
        return RunResult(verdict=self.verdict, message=self.message, sandbox_fault=sandbox_fault)

    def failed_call(self) -> CallOutcome:
        """The outcome of every input of a call job that got no answer."""
        return CallOutcome(ok=False, error=self.message, cause=self.verdict)


def read_answer(answer: dict) -> dict | WireFault:
    """The harness's answer, or the fault it reports (the one place its fault keys are read)."""
    if PROBLEM_KEY in answer:
        message = f"the problem's tests do not load: {answer[PROBLEM_KEY]}"
        return WireFault(kind=FaultKind.PROBLEM, verdict=Verdict.ERROR, message=message)
    if INTERNAL_KEY in answer:
        message = f"harness failure: {answer[INTERNAL_KEY]}"
        return WireFault(kind=FaultKind.HARNESS, verdict=Verdict.CRASHED, message=message)
    if CULPRIT_KEY in answer:
        return job_failed(answer)
    return answer


def job_failed(answer: dict) -> WireFault:
    """A job that ended without its answer, as the harness told it."""
    message = str(answer.get("message") or answer.get("verdict") or "no answer")
    culprit = answer.get(CULPRIT_KEY)
    return WireFault(
        kind=FaultKind.JOB_FAILED,
        verdict=verdict_named(answer.get("verdict")),
        message=message,
        culprit=str(culprit) if culprit else None,
    )


def container_lost(message: str, live: str | None, deadline: bool) -> WireFault:
    """A container that died, hung or broke the protocol (``deadline``: it ran out of time,
    the candidate's doing); ``live``: the candidate the harness last said was running."""
    return WireFault(
        kind=FaultKind.DEADLINE if deadline else FaultKind.LOST,
        verdict=Verdict.TIMEOUT if deadline else Verdict.CRASHED,
        message=f"sandbox container lost: {message}",
        culprit=live,
    )


def verdict_named(name: object) -> Verdict:
    """A verdict from the wire; anything unknown is a crash."""
    try:
        return Verdict(str(name))
    except ValueError:
        return Verdict.CRASHED
