"""Problems: the stub, its entry point and its tests, whatever format they arrive in."""

from codegen.problems.loaders import (
    load_humaneval,
    load_problem,
    problem_from_folder,
    problem_from_humaneval,
    problem_from_stub,
    problem_from_stub_file,
    problem_from_text,
)
from codegen.problems.model import Parameter, Problem, TestFile

__all__ = [
    "Parameter",
    "Problem",
    "TestFile",
    "load_humaneval",
    "load_problem",
    "problem_from_folder",
    "problem_from_humaneval",
    "problem_from_stub",
    "problem_from_stub_file",
    "problem_from_text",
]
