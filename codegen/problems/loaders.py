"""Turn each accepted input format into a :class:`Problem`; bad input is one clear BadInput line.

Formats:

- a problem folder: ``problem.py`` (the stub), ``test_*.py`` (visible tests), optional
  ``hidden/test_*.py`` (hidden tests) and optional ``strategies.py`` (see
  :mod:`codegen.ranking.inputs` for its convention). No test file: the doctests are the tests.
- a ``.py`` stub file alone, with test files given separately or doctests as the tests;
- a HumanEval-style record (dict, ``.json``, ``.jsonl`` or ``.jsonl.gz``): its prompt's doctests
  are the visible tests and its ``check(candidate)`` is the hidden test;
- a plain-text task with an explicit entry point name and test files.

With no tests at all (no file, no example), the visible test only checks that the function
exists, and the candidates are ranked by their agreement and the model-written tests: a
warning says so, since ten candidates in hand are evidence even without a test.
"""

from __future__ import annotations

import gzip
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, NamedTuple

from codegen.errors import BadInput
from codegen.problems.model import Problem, TestFile
from codegen.problems.stub import ENTRY_FLAG, StubInfo, parse_source, parse_stub
from codegen.problems.testfiles import (
    check_test_file,
    doctest_test_file,
    examples_test_file,
    humaneval_check_file,
    smoke_test_file,
    solution_imports,
)

IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
STUB_FILE = "problem.py"
STRATEGY_FILE = "strategies.py"
HIDDEN_DIR = "hidden"


def load_problem(
    path: str | Path, *, entry: str | None = None, tests: Sequence[str | Path] = ()
) -> Problem:
    """Load a problem folder, a ``.py`` stub or a single-record HumanEval ``.json``/``.jsonl``."""
    path = Path(path)
    if path.is_dir():
        if tests:
            raise BadInput(f"{path}: a problem folder brings its own tests; drop --tests")
        return problem_from_folder(path, entry=entry)
    _require_file(path)
    if path.suffix == ".py":
        return problem_from_stub_file(path, entry=entry, tests=tests)
    if path.name.endswith((".json", ".jsonl", ".jsonl.gz")):
        problems = load_humaneval(path)
        if len(problems) != 1:
            raise BadInput(f"{path}: holds {len(problems)} records; give a file with exactly one")
        return problems[0]
    raise BadInput(
        f"{path}: unknown problem format; give a folder, a .py stub or a HumanEval .json/.jsonl"
    )


def problem_from_folder(folder: str | Path, *, entry: str | None = None) -> Problem:
    folder = Path(folder)
    if not folder.is_dir():
        raise BadInput(f"{folder}: no such problem folder")
    stub_path = folder / STUB_FILE
    if not stub_path.is_file():
        raise BadInput(f"{folder}: no {STUB_FILE}; a problem folder needs the stub {STUB_FILE}")
    visible = sorted(folder.glob("test_*.py"))
    hidden = sorted((folder / HIDDEN_DIR).glob("test_*.py"))
    strategy_path = folder / STRATEGY_FILE
    return problem_from_stub(
        _read(stub_path),
        name=folder.name,
        where=str(stub_path),
        entry=entry,
        tests=visible,
        hidden_tests=hidden,
        strategy_path=strategy_path if strategy_path.is_file() else None,
    )


def problem_from_stub_file(
    path: str | Path, *, entry: str | None = None, tests: Sequence[str | Path] = ()
) -> Problem:
    path = Path(path)
    return problem_from_stub(
        _read(path), name=path.stem, where=str(path), entry=entry, tests=[Path(t) for t in tests]
    )


class GivenFile(NamedTuple):
    """A test file that arrived as text (in an HTTP request), under the name its sender gave:
    messages name it by that name, never by a path of the machine that reads it."""

    name: str
    source: str


TestInput = Path | GivenFile


def problem_from_stub(
    stub: str,
    *,
    name: str,
    where: str,
    entry: str | None = None,
    tests: Sequence[TestInput] = (),
    hidden_tests: Sequence[Path] = (),
    strategy_path: Path | None = None,
    entry_fix: str = ENTRY_FLAG,
) -> Problem:
    """The core loader: a stub's source plus test files (none: the doctests are the tests).
    ``entry_fix`` is how a message tells the user to name the entry point."""
    tested = {name for test in tests for name in solution_imports(_text(test)[1])}
    info = parse_stub(stub, where, entry, tested=tested, entry_fix=entry_fix)
    warnings = list(info.warnings)
    visible = _read_tests(tests, info.entry, warnings) or docstring_test_files(info, where)
    if not visible:
        visible = [smoke_test_file(info.entry)]
        warnings.append(untested(where, info.entry))
    strategy = None
    if strategy_path is not None:
        strategy = _read(strategy_path)
        parse_source(strategy, str(strategy_path), "fix the strategy file")
    return Problem(
        name=name,
        entry_point=info.entry,
        prompt=stub,
        stub=stub,
        parameters=info.parameters,
        returns=info.returns,
        visible_tests=tuple(visible),
        hidden_tests=tuple(_read_tests(hidden_tests, info.entry, warnings)),
        strategy=strategy,
        strategy_path=str(strategy_path) if strategy_path else None,
        example_args=info.example_args,
        origin=where,
        warnings=tuple(warnings),
    )


def problem_from_text(
    text: str,
    *,
    entry: str,
    tests: Sequence[str | TestInput],
    name: str = "task",
    entry_fix: str = ENTRY_FLAG,
) -> Problem:
    """A plain-text task (e.g. from stdin): the entry point's name and tests come separately."""
    if not text.strip():
        raise BadInput("the task text is empty; describe the function to write")
    if not entry or not IDENTIFIER.match(entry):
        raise BadInput(f"entry point {entry!r} is not a Python name; {entry_fix}")
    warnings: list[str] = []
    given = [t if isinstance(t, GivenFile) else Path(t) for t in tests]
    visible = _read_tests(given, entry, warnings)
    if not visible:
        visible = [smoke_test_file(entry)]
        warnings.append(untested("the task", entry))
    return Problem(
        name=name,
        entry_point=entry,
        prompt=text,
        visible_tests=tuple(visible),
        origin="<text>",
        warnings=tuple(warnings),
    )


def untested(where: str, entry: str) -> str:
    """The warning of a problem without tests: it is still solved, on weaker evidence."""
    return (
        f"{where}: no tests for {entry}; candidates are ranked by how many agree with each "
        "other and pass the model-written tests (add a test_*.py file or >>> examples for "
        "stronger evidence)"
    )


def problem_from_humaneval(record: Mapping[str, Any], where: str | None = None) -> Problem:
    """Convert one HumanEval-style record; ``check`` becomes the hidden test."""
    task = str(record.get("task_id") or record.get("entry_point") or "record")
    where = where or task
    for key in ("prompt", "entry_point", "test"):
        if not isinstance(record.get(key), str) or not record[key].strip():
            raise BadInput(f"{where}: HumanEval record lacks a {key!r} string; add it")
    entry = record["entry_point"]
    prompt = record["prompt"]
    info: StubInfo = parse_stub(prompt, f"{where} prompt", entry, lenient_doctests=True)
    visible = docstring_test_files(info, f"{where} prompt") or [smoke_test_file(entry)]
    hidden = humaneval_check_file(entry, record["test"], f"{where} test", info.functions)
    canonical = record.get("canonical_solution")
    return Problem(
        name=task,
        entry_point=entry,
        prompt=prompt,
        stub=prompt,
        parameters=info.parameters,
        returns=info.returns,
        visible_tests=tuple(visible),
        hidden_tests=(hidden,),
        canonical_solution=prompt + canonical if isinstance(canonical, str) else None,
        example_args=info.example_args,
        origin=where,
        warnings=info.warnings,
    )


def docstring_test_files(info: StubInfo, where: str) -> list[TestFile]:
    """The docstring's doctests (``>>>``) and its call examples (see :mod:`.examples`)."""
    files = []
    if info.examples:
        files.append(doctest_test_file(info.entry, info.examples, where))
    if info.call_examples:
        files.append(examples_test_file(info.entry, info.call_examples, where))
    return files


def load_humaneval(path: str | Path) -> list[Problem]:
    """All records of a ``.json`` (one object or a list), ``.jsonl`` or ``.jsonl.gz`` file."""
    path = Path(path)
    _require_file(path)
    return [problem_from_humaneval(record, f"{path}:{line}") for line, record in _records(path)]


def _records(path: Path) -> Iterable[tuple[int, dict[str, Any]]]:
    opener = gzip.open if path.name.endswith(".gz") else open
    try:
        with opener(path, "rt", encoding="utf-8") as handle:
            text = handle.read()
    except (OSError, UnicodeDecodeError) as error:
        raise BadInput(f"{path}: cannot read: {error}") from None
    if path.suffix == ".json":
        data = _json(text, path, 1)
        rows = data if isinstance(data, list) else [data]
        numbered = [(1, row) for row in rows]
    else:
        numbered = [
            (number, _json(line, path, number))
            for number, line in enumerate(text.splitlines(), 1)
            if line.strip()
        ]
    for number, row in numbered:
        if not isinstance(row, dict):
            raise BadInput(f"{path}:{number}: expected a JSON object with prompt/entry_point/test")
    return numbered


def _json(text: str, path: Path, line: int) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        raise BadInput(f"{path}:{line + error.lineno - 1}: invalid JSON: {error.msg}") from None


def _read_tests(files: Sequence[TestInput], entry: str, warnings: list[str]) -> list[TestFile]:
    tests: list[TestFile] = []
    seen: set[str] = set()
    for file in files:
        where, source = _text(file)
        if file.name in seen:
            raise BadInput(f"{where}: two test files are named {file.name}; rename one")
        seen.add(file.name)
        test, notes = check_test_file(file.name, source, entry, where)
        tests.append(test)
        warnings.extend(notes)
    return tests


def _require_file(path: Path) -> None:
    if not path.exists():
        raise BadInput(f"{path}: no such file; check the path")
    if not path.is_file():
        raise BadInput(f"{path}: not a file")


def _text(file: TestInput) -> tuple[str, str]:
    """(where, source) of a test file: a path read here, or a file given as text."""
    if isinstance(file, GivenFile):
        return file.name, file.source
    return str(file), _read(file)


def _read(path: Path) -> str:
    _require_file(path)
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise BadInput(f"{path}: cannot read: {error}") from None
