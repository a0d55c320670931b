"""Where a version's time goes, measured inside the sandbox: a line profile on given inputs.

The profiler is a few lines of Python appended to the candidate and called through the
sandbox's ordinary call operation, so it runs under the same isolation and limits as the
candidate itself (it is the candidate's code, as far as the sandbox knows). It traces only the
candidate's own lines (``sys.settrace``: hits, and the time until the next line event), stops
after a time budget, and returns JSON text. What it says only informs the prompt: a version
that fakes its profile fools no test and no timing.
"""

from __future__ import annotations

import json
from typing import Any

from pydantic import BaseModel, ValidationError

from codegen.problems import Problem
from codegen.problems.context import module_spec, program
from sandbox import CallJob, SandboxBackend

PROFILER = "_codegen_line_profile"
BUDGET_S = 2.0  # tracing is ~20× slower than running: a few calls say where the time goes;
# a call still running at the budget is cut short there, so a busy machine gets a shorter
# profile, never none
SHOWN_LINES = 6
_SOURCE = """

def {profiler}(calls, budget_s):
    import json as _json
    import sys as _sys
    import time as _time

    class OverBudget(BaseException):  # past `except Exception` in the traced code
        pass

    entry = globals()[{entry!r}]
    own = entry.__code__.co_filename
    hits, spent, last = {{}}, {{}}, [None, 0.0]

    def tracer(frame, event, arg):
        if frame.f_code.co_filename != own or frame.f_code.co_name == {profiler!r}:
            return None
        if event in ("line", "return"):
            now = _time.perf_counter()
            if event == "line" and now - started > budget_s:
                raise OverBudget  # a call cut short: its lines so far are the profile
            if last[0] is not None:
                spent[last[0]] = spent.get(last[0], 0.0) + now - last[1]
            if event == "line":
                hits[frame.f_lineno] = hits.get(frame.f_lineno, 0) + 1
                last[0], last[1] = frame.f_lineno, now
            else:
                last[0] = None
        return tracer

    started, done, cut = _time.perf_counter(), 0, False
    for args in calls:
        if done and _time.perf_counter() - started > budget_s:
            break
        _sys.settrace(tracer)
        try:
            entry(*args)
        except OverBudget:
            cut = True
        except Exception:
            pass
        finally:
            _sys.settrace(None)
            last[0] = None
        done += 1
        if cut:
            break
    lines = [[line, hits[line], spent.get(line, 0.0)] for line in hits]
    return _json.dumps({{"calls": done, "cut": cut, "lines": lines}})
"""


class LineCost(BaseModel):
    line: int
    hits: int
    seconds: float


class Profile(BaseModel):
    """The line profile of one version on some inputs; ``text`` is what the models see."""

    calls: int = 0
    cut: bool = False  # the last call was stopped at the budget
    lines: list[LineCost] = []
    text: str = ""


async def profile(
    problem: Problem, code: str, inputs: list[tuple], sandbox: SandboxBackend, described: str
) -> Profile:
    """The line profile of ``code`` on ``inputs`` (``described``: what they are, for the text);
    an empty profile with the reason in ``text`` when it cannot be taken."""
    if not inputs:
        return Profile(text="not taken: no inputs to profile on")
    module = program(problem, code)  # in its module, helpers traced too
    source = module.rstrip("\n") + _SOURCE.format(profiler=PROFILER, entry=problem.entry_point)
    limits = sandbox.limits.model_copy(update={"test_seconds": max(5.0, 4 * BUDGET_S)})
    calls: list[tuple[tuple[Any, ...], dict[str, Any]]] = [
        ((list(map(tuple, inputs)), BUDGET_S), {})
    ]
    spec = module_spec(problem, sandbox)
    job = CallJob(
        candidate=source, entry_point=PROFILER, inputs=calls, limits=limits, max_timeouts=1,
        module=spec,
    )  # fmt: skip
    (outcome,) = await sandbox.call(job)
    if not outcome.ok or not isinstance(outcome.value, str):
        return Profile(text=f"not taken: {outcome.error or outcome.cause or 'no answer'}")
    try:
        data = json.loads(outcome.value)
        measured = Profile(calls=data["calls"], cut=data["cut"],
                           lines=[LineCost(line=a, hits=b, seconds=c)
                                  for a, b, c in data["lines"]])  # fmt: skip
    except (ValueError, KeyError, TypeError, ValidationError):
        return Profile(text="not taken: the profiler's answer was not readable")
    measured.text = describe(measured, module, described)
    return measured


def describe(measured: Profile, code: str, inputs: str) -> str:
    """The costliest lines, with their share of the traced time and their hits."""
    source = code.splitlines()
    lines = [c for c in measured.lines if 1 <= c.line <= len(source)]
    total = sum(c.seconds for c in lines)
    if not lines or total <= 0:
        return "not taken: no line of the function ran"
    top = sorted(lines, key=lambda c: -c.seconds)[:SHOWN_LINES]
    calls = f"{measured.calls} call(s)" + (
        f" (the last stopped at the {BUDGET_S:g} s budget)" if measured.cut else ""
    )
    rows = [f"{calls} on {inputs}; the costliest lines:"]
    for cost in sorted(top, key=lambda c: c.line):
        rows.append(
            f"{cost.seconds / total:6.1%} {cost.hits:>10,} hits  line {cost.line:>3}: "
            f"{source[cost.line - 1].strip()[:100]}"
        )
    return "\n".join(rows)
