"""The internal problem model every input format converts into.

A problem is plain data (sources as strings) so that it can be stored, hashed for caching and
sent to other processes; nothing here executes user code.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

TestOrigin = Literal["file", "doctest", "examples", "humaneval_check", "smoke"]


class TestFile(BaseModel):
    """One pytest file that imports the candidate as the module ``solution``."""

    __test__ = False  # not a pytest class
    model_config = ConfigDict(frozen=True)

    name: str = Field(pattern=r"^test_[A-Za-z0-9_]*\.py$")
    source: str
    origin: TestOrigin = "file"
    path: str | None = Field(None, description="where it was read from, for messages")
    uses_benchmark: bool = False


class Parameter(BaseModel):
    """One parameter of the entry point, as written in the stub (annotation as source text)."""

    model_config = ConfigDict(frozen=True)

    name: str
    annotation: str | None = None
    kind: Literal["positional", "keyword_only", "var_positional", "var_keyword"] = "positional"
    has_default: bool = False


class ModuleContext(BaseModel):
    """The module the function lives in: candidates are tested as this module with the
    function's body replaced (:mod:`codegen.problems.context`), so its imports, helpers and
    constants are theirs to use; within a project, as the module of its package."""

    model_config = ConfigDict(frozen=True)

    source: str = Field(description="the module's text, as in its file")
    path: str = Field("", description="its path in the project, for messages and the tests")
    module: str | None = Field(
        None, description="its dotted name, imported from import_path (pkg.text)"
    )
    import_path: str = Field(".", description="the folder its package is imported from")
    repository_tests: tuple[str, ...] = Field(
        (), description="the project's own tests of the function (pytest node ids)"
    )
    prompt: str = Field("", description="what the models see of the module and the package")
    prompt_tokens: int = Field(0, description="about how many tokens the prompt adds")
    root: str | None = Field(
        None,
        exclude=True,  # a path of this machine: never sent, stored or part of the fingerprint
        description="the project's root folder on this machine, when it was read from one",
    )


class Problem(BaseModel):
    """A task, its entry point, and its tests split into visible (for ranking) and hidden."""

    model_config = ConfigDict(frozen=True)

    name: str
    entry_point: str = Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")
    prompt: str = Field(description="what the models see: the stub source or the plain text")
    stub: str | None = Field(None, description="Python source of the stub; None for text tasks")
    parameters: tuple[Parameter, ...] | None = Field(
        None, description="the entry point's parameters; None when unknown (text task)"
    )
    returns: str | None = Field(None, description="return annotation as source text")
    visible_tests: tuple[TestFile, ...]
    hidden_tests: tuple[TestFile, ...] = ()
    strategy: str | None = Field(None, description="source of strategies.py, if provided")
    strategy_path: str | None = None
    canonical_solution: str | None = Field(None, description="a full reference module")
    example_args: tuple[str, ...] = Field(
        (), description="argument tuples of the docstring's examples, as Python literals"
    )
    origin: str = Field("", description="path or task id it was loaded from")
    warnings: tuple[str, ...] = ()
    context: ModuleContext | None = Field(
        None, description="the module around the function, when it lives in one"
    )

    @property
    def weak_tests(self) -> bool:
        """True when the visible tests are only docstring examples (or a bare import check)."""
        return all(test.origin in ("doctest", "examples", "smoke") for test in self.visible_tests)

    @property
    def has_benchmark_tests(self) -> bool:
        """True when a visible test uses pytest-benchmark's ``benchmark`` fixture."""
        return any(test.uses_benchmark for test in self.visible_tests)

    @property
    def has_hidden_tests(self) -> bool:
        return bool(self.hidden_tests)

    def fingerprint(self) -> str:
        """sha256 of what decides a solution: entry point, prompt, tests and strategy. A cache
        key: a changed stub or test means a new problem."""
        payload: dict[str, object] = {
            "entry": self.entry_point,
            "prompt": self.prompt,
            "visible": [[t.name, t.source] for t in self.visible_tests],
            "hidden": [[t.name, t.source] for t in self.hidden_tests],
            "strategy": self.strategy,
        }
        if self.context is not None:  # the helpers a candidate uses are part of the problem
            shown = {"prompt", "prompt_tokens"}  # how much of it the models see is not
            payload["context"] = self.context.model_dump(mode="json", exclude=shown)
        return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()

    def sandbox_test_files(self, hidden: bool = False) -> dict[str, str]:
        """The ``RunJob.test_files`` mapping: visible tests, or only the hidden ones.

        Asking for hidden tests of a problem that has none is a programming error, not an empty
        (and therefore trivially passing) job.
        """
        tests = self.hidden_tests if hidden else self.visible_tests
        if not tests:
            which = "hidden" if hidden else "visible"
            raise ValueError(f"problem {self.name!r} has no {which} tests")
        return {test.name: test.source for test in tests}


def is_plain(value: Any) -> bool:
    """Builtin data only, so that it survives JSON or pickle into the sandbox unchanged."""
    if value is None or isinstance(value, bool | int | float | str | bytes):
        return True
    if isinstance(value, list | tuple | set | frozenset):
        return all(is_plain(item) for item in value)
    if isinstance(value, dict):
        return all(is_plain(k) and is_plain(v) for k, v in value.items())
    return False
