"""The last check before a snippet is returned: as a module of its own, it imports and passes the
problem's tests, and pyflakes is clean.

Candidates are tested as the module `solution`, so a snippet that imports `solution` (or needs
anything only that name gives it) would pass there and fail in the user's `median_out.py`. Here
the snippet runs under its own name with `solution` hidden while it loads: the sandbox is asked,
through its ordinary job, to run a small wrapper module that executes the snippet as
`<name>.py` and re-exports what it defines; the problem's tests then run against it as usual.
"""

from __future__ import annotations

from codegen.generation.snippet import problems
from codegen.problems import Problem
from sandbox import RunJob, RunResult, SandboxBackend, TestStatus, Verdict

_WRAPPER = """import sys as _sys
import types as _types

_snippet = _types.ModuleType({module!r})
_snippet.__file__ = {filename!r}
_sys.modules[{module!r}] = _snippet
_tested_as = _sys.modules.get("solution")
_sys.modules["solution"] = None  # the snippet must load without the module it was tested as
try:
    exec(compile({code!r}, {filename!r}, "exec"), _snippet.__dict__)
finally:
    _sys.modules["solution"] = _tested_as
globals().update({{k: v for k, v in vars(_snippet).items() if not k.startswith("__")}})
"""


def module_name(filename: str | None, entry_point: str) -> str:
    """The name the snippet is imported under: the file it is written to, else the function's."""
    if filename:
        stem = filename.rsplit("/", 1)[-1]
        return stem[:-3] if stem.endswith(".py") else stem
    return entry_point


def module_wrapper(code: str, module: str) -> str:
    """The `solution` source that loads `code` as the module `module` (see the docstring)."""
    return _WRAPPER.format(module=module, filename=f"{module}.py", code=code)


async def check_snippet(
    problem: Problem, code: str, module: str, sandbox: SandboxBackend, tested: RunResult | None
) -> list[str]:
    """Why `code` cannot be returned as `module.py`, or nothing. `tested` is its run as
    `solution`: every test it passed there must pass here (examples set aside stay aside);
    without it, every test must pass."""
    found = problems(code, problem.entry_point)
    if found:
        return [f"pyflakes: {line}" for line in found]
    job = RunJob(
        entry_point=problem.entry_point,
        test_files=problem.sandbox_test_files(),
        candidate=module_wrapper(code, module),
        limits=sandbox.limits,
    )
    run = await sandbox.run(job)
    if tested is None:
        tested = run.model_copy(update={"tests": [t.model_copy(update={"status": TestStatus.PASSED})
                                                  for t in run.tests]})  # fmt: skip
    passed = {t.name for t in tested.tests if t.status is TestStatus.PASSED}
    lost = [t for t in run.tests if t.name in passed and t.status is not TestStatus.PASSED]
    if lost:
        first = lost[0]
        return [f"as {module}.py, {first.name.split('::')[-1]} fails: {_line(first.message)}"]
    if run.verdict not in (Verdict.PASSED, Verdict.FAILED) or (passed and not run.tests):
        return [f"as {module}.py: {run.verdict}: {_line(run.message)}"]
    return []


def _line(text: str) -> str:
    return (text.strip().splitlines() or [""])[0][:200]
