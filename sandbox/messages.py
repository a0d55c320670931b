"""The jobs as the harness receives them, and its answers read back into results: shared by
every backend that runs the harness (the warm pool, the strict reference, the in-process one).
"""

from __future__ import annotations

import base64
import pickle

from .faults import WireFault
from .models import CallJob, CallOutcome, Inputs, Limits, RunJob, RunResult, TimingJob


def pack_inputs(inputs: Inputs) -> str:
    """Inputs as the harness unpacks them: a pickle of plain ``(args, kwargs)`` pairs."""
    return base64.b64encode(pickle.dumps([(tuple(a), dict(k)) for a, k in inputs])).decode()


def run_message(job: RunJob) -> dict:
    return {
        "op": "run",
        "entry_point": job.entry_point,
        "test_files": job.test_files,
        "candidate": job.candidate,
        "limits": job.limits.model_dump(),
        "seed": job.seed,
        "module": job.module.message() if job.module else None,
    }


def call_message(job: CallJob, limits: Limits) -> dict:
    return {
        "op": "call",
        "entry_point": job.entry_point,
        "candidate": job.candidate,
        "max_timeouts": job.max_timeouts,
        "inputs": pack_inputs(job.inputs),
        "limits": limits.model_dump(),
        "value_bytes": job.value_bytes,
        "module": job.module.message() if job.module else None,
        "hypothesis": job.hypothesis,
    }


def time_message(
    job: TimingJob,
    candidates: dict[str, str],
    limits: Limits,
    expected: dict[str, dict[str, str]],
    rounds: int | None = None,
    budgets: dict[str, float] | None = None,
) -> dict:
    """``candidates`` (some of the job's) timed for ``rounds`` (the job's by default), each
    held to its ``expected`` digests and, when given, to its budget per round."""
    message = {
        "op": "time",
        "entry_point": job.entry_point,
        "test_files": job.test_files,
        "candidates": candidates,
        "rounds": job.rounds if rounds is None else rounds,
        "expected": {cid: expected[cid] for cid in candidates if cid in expected},
        "limits": limits.model_dump(),
        "inputs": pack_inputs(job.inputs) if job.inputs else None,
        "seed": job.seed,
        "module": job.module.message() if job.module else None,
        "floor": job.floor,
    }
    if budgets is not None:
        message["budgets"] = {cid: budgets[cid] for cid in candidates}
    return message


def run_result(answer: dict | WireFault) -> RunResult:
    """A run job's result; ProblemError when the problem's tests do not load."""
    if isinstance(answer, WireFault):
        answer.raise_problem()
        return answer.run_result()
    return RunResult.model_validate({k: answer[k] for k in RunResult.model_fields if k in answer})


def call_outcomes(answer: dict | WireFault, count: int) -> list[CallOutcome]:
    """A call job's outcomes, one per input; every input failed when the candidate could not
    be started or the job got no answer."""
    if isinstance(answer, WireFault):
        answer.raise_problem()
        return [answer.failed_call()] * count
    if "outcomes" not in answer:
        return [failed_call(answer)] * count
    return [CallOutcome.model_validate(outcome) for outcome in answer["outcomes"]]


def failed_call(failure: dict) -> CallOutcome:
    """The outcome of every input of a call job whose candidate could not be started (the
    harness's start-up failure: a verdict and a message)."""
    return CallOutcome(
        ok=False,
        error=failure.get("message", "candidate failed"),
        cause=failure.get("verdict", "error"),
    )
