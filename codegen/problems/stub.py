"""Read a stub's entry point from its syntax tree: signature, docstring and doctest examples.

Only ``ast`` is used, so loading a problem never runs the problem's code on the host.
"""

from __future__ import annotations

import ast
import doctest
from collections.abc import Collection
from dataclasses import dataclass, field, replace

from codegen.errors import BadInput
from codegen.problems.examples import CallExample, call_arguments, prose_examples
from codegen.problems.model import Parameter

ENTRY_FLAG = "pass --entry NAME"  # how the CLI names the entry point; a service names its field


@dataclass(frozen=True)
class Example:
    """One doctest example from the entry point's docstring."""

    source: str
    want: str
    lineno: int  # line in the stub file


@dataclass(frozen=True)
class StubInfo:
    entry: str
    parameters: tuple[Parameter, ...]
    returns: str | None
    examples: tuple[Example, ...]
    functions: tuple[str, ...]
    warnings: tuple[str, ...] = field(default=())
    # ``f(x) == y`` examples: doctests written as assertions, else examples in the prose
    call_examples: tuple[CallExample, ...] = field(default=())

    @property
    def example_args(self) -> tuple[str, ...]:
        """The examples' argument tuples as literals: valid inputs, for differential tests."""
        names = [p.name for p in self.parameters if p.kind == "positional"]
        found = [call_arguments(e.source, self.entry, names) for e in self.examples]
        found += [e.args for e in self.call_examples]
        return tuple(dict.fromkeys(repr(args) for args in found if args is not None))


def parse_source(source: str, where: str, fix: str) -> ast.Module:
    """Parse or raise BadInput naming ``where:line`` and the fix."""
    try:
        return ast.parse(source, filename=where)
    except SyntaxError as error:
        line, column = error.lineno or 0, error.offset or 0
        raise BadInput(
            f"{where}:{line}: syntax error at column {column}: {error.msg}; {fix}"
        ) from None
    except (ValueError, MemoryError, RecursionError) as error:  # a NUL byte, absurd nesting
        raise BadInput(f"{where}: cannot be parsed: {error}; {fix}") from None


def _why_no_function(tree: ast.Module) -> str:
    """Why a stub has no function to write, naming what it has instead."""
    coroutines = [n.name for n in tree.body if isinstance(n, ast.AsyncFunctionDef)]
    if coroutines:
        return (f"`async def {coroutines[0]}` cannot be the entry point: the tests call it "
                "as a plain function; write `def` (an async helper beside it is fine)")  # fmt: skip
    classes = [n.name for n in tree.body if isinstance(n, ast.ClassDef)]
    if classes:
        return (f"no top-level function, only class {classes[0]}; the entry point is a "
                "function: write the method as a top-level `def` (or a function that uses "
                "the class)")  # fmt: skip
    return (
        "no top-level function; a stub needs one `def name(...):` with type hints and a docstring"
    )


def parse_stub(
    source: str,
    where: str,
    entry: str | None = None,
    *,
    lenient_doctests: bool = False,
    tested: Collection[str] = (),
    entry_fix: str = ENTRY_FLAG,
) -> StubInfo:
    """Find the entry point: ``entry``, else ``__entry__ = "name"`` in the stub, else the one
    top-level function whose body is unwritten (helpers defined beside it are implemented;
    among several unwritten ones, the one the tests import, named in ``tested``), else the
    first one. ``lenient_doctests`` turns malformed examples into a warning."""
    tree = parse_source(source, where, "fix the stub")
    entry = entry or _declared_entry(tree)
    functions = [node for node in tree.body if isinstance(node, ast.FunctionDef)]
    if not functions:
        raise BadInput(f"{where}: {_why_no_function(tree)}")
    names = tuple(function.name for function in functions)
    if entry is None:
        node = _unwritten(functions, where, tested, entry_fix)
    else:
        matches = [function for function in functions if function.name == entry]
        if not matches:
            raise BadInput(
                f"{where}: no top-level function named {entry!r} (found {', '.join(names)}); "
                "fix the entry point name"
            )
        node = matches[-1]
    warnings = []
    if not _is_stub_body(node):
        warnings.append(f"{where}: {node.name} has a body; it is ignored and treated as a stub")
    try:
        examples = _examples(node, where)
    except BadInput as error:
        if not lenient_doctests:
            raise
        warnings.append(f"{error}; doctest examples ignored")
        examples = ()
    parameters = _parameters(node)
    positional = [p.name for p in parameters if p.kind == "positional"]
    examples, calls = _assertions_apart(examples, node.name, positional, names)
    if not examples and not calls:
        docstring, first = _docstring(node)
        found = prose_examples(docstring, node.name, positional, names)
        calls = [replace(example, line=first + example.line - 1) for example in found]
    return StubInfo(
        entry=node.name,
        parameters=parameters,
        returns=ast.unparse(node.returns) if node.returns else None,
        examples=examples,
        functions=names,
        warnings=tuple(warnings),
        call_examples=tuple(calls),
    )


def _unwritten(
    functions: list[ast.FunctionDef], where: str, tested: Collection[str], entry_fix: str
) -> ast.FunctionDef:
    """The function to write: the only one with an unwritten body, or the only unwritten one
    the tests import; with several, which one is ambiguous (one clear error); with none, the
    first function."""
    stubs = [function for function in functions if _is_stub_body(function)]
    if len(stubs) > 1:
        stubs = [function for function in stubs if function.name in tested] or stubs
    if len(stubs) > 1:
        names = ", ".join(function.name for function in stubs)
        raise BadInput(
            f"{where}: several functions are unwritten ({names}); name the one to write: "
            f'{entry_fix} (or `__entry__ = "NAME"` in the file)'
        )
    return stubs[0] if stubs else functions[0]


def _declared_entry(tree: ast.Module) -> str | None:
    """``__entry__ = "name"`` at the top level of the stub configures the entry point."""
    for node in tree.body:
        if (
            isinstance(node, ast.Assign)
            and any(isinstance(t, ast.Name) and t.id == "__entry__" for t in node.targets)
            and isinstance(node.value, ast.Constant)
            and isinstance(node.value.value, str)
        ):
            return node.value.value
    return None


def _parameters(node: ast.FunctionDef) -> tuple[Parameter, ...]:
    args = node.args
    positional = [*args.posonlyargs, *args.args]
    first_default = len(positional) - len(args.defaults)

    def annotation(arg: ast.arg) -> str | None:
        return ast.unparse(arg.annotation) if arg.annotation else None

    params = [
        Parameter(name=arg.arg, annotation=annotation(arg), has_default=index >= first_default)
        for index, arg in enumerate(positional)
    ]
    if args.vararg:
        params.append(
            Parameter(
                name=args.vararg.arg, annotation=annotation(args.vararg), kind="var_positional"
            )
        )
    for arg, default in zip(args.kwonlyargs, args.kw_defaults, strict=True):
        params.append(
            Parameter(
                name=arg.arg,
                annotation=annotation(arg),
                kind="keyword_only",
                has_default=default is not None,
            )
        )
    if args.kwarg:
        params.append(
            Parameter(name=args.kwarg.arg, annotation=annotation(args.kwarg), kind="var_keyword")
        )
    return tuple(params)


def _examples(node: ast.FunctionDef, where: str) -> tuple[Example, ...]:
    docstring, doc_line = _docstring(node)
    if not docstring:
        return ()
    try:
        parsed = doctest.DocTestParser().get_examples(docstring, name=node.name)
    except ValueError as error:
        raise BadInput(f"{where}:{doc_line}: bad doctest in {node.name}: {error}") from None
    for ex in parsed:  # doctest compiles each example so: one that cannot fails every candidate
        try:
            compile(ex.source, "<doctest>", "single")
        except (SyntaxError, ValueError) as error:
            shown = ex.source.strip().splitlines()[0][:80]
            why = error.msg if isinstance(error, SyntaxError) else str(error)
            raise BadInput(
                f"{where}:{doc_line + ex.lineno}: the doctest `>>> {shown}` in "
                f"{node.name} is not valid Python ({why}); fix the docstring"
            ) from None
    return tuple(
        Example(source=ex.source, want=ex.want, lineno=doc_line + ex.lineno) for ex in parsed
    )


def _assertions_apart(
    examples: tuple[Example, ...], entry: str, params: list[str], functions: Collection[str]
) -> tuple[tuple[Example, ...], list[CallExample]]:
    """``>>> f([]) == 0`` without output is an assertion written without its ``True`` (doctest
    itself would fail it: it prints True). With literal arguments and value it becomes a call
    example, as soft as prose (HumanEval has wrong ones); otherwise a doctest expecting True."""
    doctests, calls = [], []
    for example in examples:
        if example.want or not _is_equality(example.source):
            doctests.append(example)
            continue
        found = prose_examples(example.source, entry, params, functions)
        if len(found) == 1:
            calls.append(replace(found[0], line=example.lineno))
        else:
            doctests.append(Example(example.source, "True\n", example.lineno))
    return tuple(doctests), calls


def _docstring(node: ast.FunctionDef) -> tuple[str, int]:
    """The docstring and its first line in the stub; also when imports come before it
    (``def f():\n    import math\n    \"\"\"...\"\"\"``, as in HumanEval/115), which Python
    does not count as a docstring but the author meant as one."""
    for statement in node.body:
        if isinstance(statement, ast.Import | ast.ImportFrom):
            continue
        value = statement.value if isinstance(statement, ast.Expr) else None
        if isinstance(value, ast.Constant) and isinstance(value.value, str):
            return value.value, statement.lineno
        break
    return "", node.lineno


def _is_equality(source: str) -> bool:
    try:
        tree = ast.parse(source.strip(), mode="eval")
    except SyntaxError:
        return False
    body = tree.body
    return isinstance(body, ast.Compare) and all(isinstance(op, ast.Eq) for op in body.ops)


def _is_stub_body(node: ast.FunctionDef) -> bool:
    """A body of only a docstring, ``...``, ``pass`` or ``raise NotImplementedError``."""
    for statement in node.body:
        if isinstance(statement, ast.Pass):
            continue
        if isinstance(statement, ast.Expr) and isinstance(statement.value, ast.Constant):
            continue  # the docstring or a bare `...`
        if isinstance(statement, ast.Raise) and statement.exc is not None:
            exc = statement.exc.func if isinstance(statement.exc, ast.Call) else statement.exc
            if isinstance(exc, ast.Name) and exc.id == "NotImplementedError":
                continue
        return False
    return True
