"""The tests of a marked stub: its doctests, and the tests of its associated test file rewritten
to import the candidate (`from solution import name`). Reads files; runs nothing.

The associated file of `pkg/mod.py` is the first of `pkg/test_mod.py`, `pkg/tests/test_mod.py`
or `tests/test_mod.py` in `pkg` or any folder above it (up to the repository root). From it we
keep the test functions (and Test classes) that use the stub's name and no other name imported
from `mod`, the fixtures and every other top-level statement, and we replace the imports from
`mod` by `from solution import name`. The fixtures of the `conftest.py` files above it, up to
the project's root, are put at the top of it (the tests run apart from the project's folders:
their hooks and `pytest_plugins` are left out). The project's own run of its tests, as they
are, is the sandbox's (:mod:`codegen.project.tests`).
"""

from __future__ import annotations

import ast
from pathlib import Path

from codegen.errors import BadInput
from codegen.problems import Problem
from codegen.problems.loaders import docstring_test_files
from codegen.problems.model import ModuleContext, TestFile
from codegen.problems.stub import parse_stub
from codegen.problems.testfiles import check_test_file
from codegen.project.context import DEFAULT_CONTEXT_TOKENS, module_context
from codegen.project.find import MarkedStub


def find_test_file(source: Path, root: Path) -> Path | None:
    """The associated test file of `source`, searched from its folder up to `root`."""
    name = f"test_{source.stem}.py"
    folder = source.parent.resolve()
    root = root.resolve()
    candidates = [folder / name, folder / "tests" / name]
    for parent in (folder, *folder.parents):
        candidates.append(parent / "tests" / name)
        if parent == root:
            break
    return next((c for c in candidates if c.is_file() and c.resolve() != source.resolve()), None)


def associated_tests(stub: MarkedStub, module: str, test_source: str, where: str) -> str | None:
    """The tests of `test_source` that exercise `stub.name`, importing it from `solution`;
    None when none of them uses it."""
    try:
        tree = ast.parse(test_source, filename=where)
    except SyntaxError as error:
        raise BadInput(f"{where}:{error.lineno or 0}: syntax error: {error.msg}") from None
    from_module: set[str] = set()
    entry_alias = None
    for node in tree.body:
        if isinstance(node, ast.ImportFrom) and _imports_module(node, module):
            for alias in node.names:
                from_module.add(alias.asname or alias.name)
                if alias.name == stub.name:
                    entry_alias = alias.asname or alias.name
    if entry_alias is None:
        return None
    others = from_module - {entry_alias}
    kept: list[ast.stmt] = []
    tests = 0
    for node in tree.body:
        if _imports_module(node, module):
            renamed = "" if entry_alias == stub.name else f" as {entry_alias}"
            kept.append(ast.parse(f"from solution import {stub.name}{renamed}").body[0])
        elif _is_test(node):
            used = _names(node)
            if entry_alias in used and not used & others:
                kept.append(node)
                tests += 1
        else:
            kept.append(node)
    if not tests:
        return None
    return ast.unparse(ast.Module(body=kept, type_ignores=[])) + "\n"


def problem_for(
    stub: MarkedStub,
    root: Path,
    module: str | None = None,
    context_tokens: int = DEFAULT_CONTEXT_TOKENS,
) -> Problem:
    """The Problem of one stub: its doctests and/or its associated tests; BadInput when it has
    neither, naming both fixes. ``module``: the text of the stub's file, read when not given:
    candidates are tested inside it (:mod:`codegen.problems.context`), and the models see at
    most ``context_tokens`` of it and its package."""
    where = f"{stub.path}:{stub.lineno}"
    info = parse_stub(stub.stub, where, stub.name)
    warnings = list(info.warnings)
    visible = []
    source_path = Path(stub.path)
    if module is None:
        module = source_path.read_text("utf-8")
    context = module_context(source_path, module, stub.name, root, context_tokens)
    found = test_file_of(stub, root, context)
    if found is not None:
        visible.append(found[0])
        warnings.extend(found[1])
    visible += docstring_test_files(info, where)
    if not visible:
        raise BadInput(
            f"{where}: {stub.name} is marked `# codegen: solve` but has no tests; add >>> "
            f"examples to its docstring, or tests to tests/test_{source_path.stem}.py"
        )
    return Problem(
        name=f"{stub.path}::{stub.name}",
        entry_point=stub.name,
        prompt=stub.stub,
        stub=stub.stub,
        parameters=info.parameters,
        example_args=info.example_args,
        returns=info.returns,
        visible_tests=tuple(visible),
        origin=where,
        warnings=tuple(warnings),
        context=context,
    )


def test_file_of(
    stub: MarkedStub, root: Path, context: ModuleContext
) -> tuple[TestFile, list[str]] | None:
    """The stub's associated tests as the problem's test file (the conftest fixtures above it
    at the top), with the warnings it raised; None when there are none."""
    source_path = Path(stub.path)
    test_path = find_test_file(source_path, root)
    if test_path is None:
        return None
    shown = _relative(test_path, root)
    rewritten = associated_tests(stub, source_path.stem, test_path.read_text("utf-8"), shown)
    if rewritten is None:
        return None
    top = Path(context.root) if context.root else root
    rewritten = with_conftests(rewritten, test_path, top, stub, source_path.stem)
    return check_test_file(
        f"test_{stub.name}.py", rewritten, stub.name, shown, in_project=bool(context.root)
    )


def with_conftests(tests: str, test_path: Path, root: Path, stub: MarkedStub, module: str) -> str:
    """``tests`` with the fixtures and helpers of every ``conftest.py`` from ``root`` down to
    the test file's folder at the top (outermost first: a nearer one, and the file itself,
    override them, as in pytest). Imports of the stub from its module become imports from
    ``solution``; hooks and ``pytest_plugins`` are left out."""
    folder = test_path.resolve().parent
    root = root.resolve()
    if not folder.is_relative_to(root):
        return tests
    chain = [root, *reversed([p for p in folder.parents if p.is_relative_to(root) and p != root])]
    chain = list(dict.fromkeys([*chain, folder]))
    parts: list[str] = []
    for place in chain:
        conftest = place / "conftest.py"
        if not conftest.is_file():
            continue
        try:
            tree = ast.parse(conftest.read_text("utf-8"), filename=str(conftest))
        except (OSError, UnicodeDecodeError, SyntaxError, ValueError):
            continue
        kept = [new for node in tree.body if _fixture_part(node)
                for new in _as_tested(node, stub, module)]  # fmt: skip
        if kept:
            parts.append(f"# {_relative(conftest, root)}\n" + ast.unparse(ast.Module(kept, [])))
    return "\n\n\n".join([*parts, tests]) if parts else tests


def _fixture_part(node: ast.stmt) -> bool:
    """Whatever a conftest defines for its tests, but not what configures pytest itself."""
    if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
        return not node.name.startswith("pytest_")
    if isinstance(node, ast.Assign):
        return not any(isinstance(t, ast.Name) and t.id == "pytest_plugins" for t in node.targets)
    return not (isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant))


def _as_tested(node: ast.stmt, stub: MarkedStub, module: str) -> list[ast.stmt]:
    """An import of the stub from its module becomes one from ``solution``."""
    if not _imports_module(node, module):
        return [node]
    assert isinstance(node, ast.ImportFrom)
    ours = [alias for alias in node.names if alias.name == stub.name]
    rest = [alias for alias in node.names if alias.name != stub.name]
    kept: list[ast.stmt] = [ast.ImportFrom(module="solution", names=ours, level=0)] if ours else []
    if rest:
        kept.append(ast.ImportFrom(module=node.module, names=rest, level=node.level))
    return kept


def _imports_module(node: ast.stmt, module: str) -> bool:
    """`from mod import …` or `from pkg.mod import …` (the module under test)."""
    return (
        isinstance(node, ast.ImportFrom)
        and node.module is not None
        and (node.module == module or node.module.endswith(f".{module}"))
    )


def _is_test(node: ast.stmt) -> bool:
    if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
        return node.name.startswith("test")
    return isinstance(node, ast.ClassDef) and node.name.startswith("Test")


def _names(node: ast.AST) -> set[str]:
    return {n.id for n in ast.walk(node) if isinstance(n, ast.Name)}


def _relative(path: Path, root: Path) -> str:
    try:
        return str(path.resolve().relative_to(root.resolve()))
    except ValueError:
        return str(path)
