"""A request's problem, built as the CLI builds one from files, but from text: the stub and the
test files arrive in the request body and never touch the server's disk, so that every message
names them as the client did (``stub:3: syntax error at column 9 …``, ``test_sum.py: …``),
never by a server path, and tells the fix in the API's words (the ``entry`` field, not a CLI
flag). A problem is named after its function."""

from __future__ import annotations

import ast
import re

from codegen.errors import BadInput
from codegen.problems import Problem, problem_from_stub, problem_from_text
from codegen.problems.loaders import GivenFile
from codegen.service.api import ProblemInput, Task

STUB = "stub"  # how messages name the request's stub
ENTRY_FIX = "set `entry` to the function's name"
TEST_NAME = re.compile(r"^test_[A-Za-z0-9_]*\.py$")
# A stub that does not parse is still read as Python (and its syntax error named) when it looks
# like code; otherwise it is a plain-text task.
LOOKS_LIKE_CODE = re.compile(r"^\s*(async\s+def|def|class|import|from|@)\b", re.MULTILINE)


def problem_of(request: ProblemInput) -> Problem:
    """The request's problem: as a client loaded it, or built from its task. BadInput says
    what is wrong, in the request's terms."""
    if request.problem is not None:
        return request.problem
    assert request.task is not None
    return problem_of_task(request.task)


def problem_of_task(task: Task) -> Problem:
    tests = [GivenFile(name, source) for name, source in task.tests.items()]
    for test in tests:
        if not TEST_NAME.match(test.name):
            raise BadInput(f"test file name {test.name!r} must be a plain test_*.py name")
    if _is_python(task.stub):
        problem = problem_from_stub(task.stub, name=STUB, where=STUB, entry=task.entry,
                                    tests=tests, entry_fix=ENTRY_FIX)  # fmt: skip
    elif not task.entry:
        raise BadInput(
            "the stub is plain text, so the entry point needs a name: set `entry` to the "
            "function's name (or send a Python stub with one `def`)"
        )
    else:
        problem = problem_from_text(task.stub, entry=task.entry, tests=tests, entry_fix=ENTRY_FIX)
    return problem.model_copy(update={"name": problem.entry_point})


def _is_python(stub: str) -> bool:
    """A stub with a function, or one that looks like code (its syntax error is then named);
    anything else is a plain-text description."""
    try:
        tree = ast.parse(stub)
    except (SyntaxError, ValueError):
        return bool(LOOKS_LIKE_CODE.search(stub))
    except (MemoryError, RecursionError):
        return True  # parse_source names it
    return any(isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) for node in tree.body)
