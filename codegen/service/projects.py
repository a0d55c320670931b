"""A request's project, on the service: its source unpacked from the request's archive into a
folder of the job's own (or, only where the operator allows it, a folder of the server), its
problem read there, and the plan that mounts it in the job's sandbox. The service reads the
project's files (``ast`` only) and copies them; their code runs in the sandbox only, and an
image with the project's dependencies is built only when the operator lets it (else it must
have been built: ``codegen sandbox build --project``)."""

from __future__ import annotations

import contextlib
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from codegen.errors import BadInput
from codegen.problems import Problem
from codegen.project import is_function_spec
from codegen.project.archive import unpack
from codegen.project.environment import ProjectPlan
from codegen.project.needs import third_party
from codegen.project.target import function_problem
from codegen.service.api import ProblemInput, ProjectInput
from codegen.service.task import problem_of


@dataclass(frozen=True)
class ProjectPolicy:
    """What the operator allows: folders of the server a request may name, and building
    images from a request's dependencies."""

    allowed: tuple[Path, ...] = ()
    build_images: bool = False


@contextlib.contextmanager
def project_root(given: ProjectInput, policy: ProjectPolicy) -> Iterator[Path]:
    """The project's folder for the time of the block: the archive unpacked (removed after),
    or an allowed folder of the server."""
    if given.archive is not None:
        root = unpack(given.archive)
        try:
            yield root
        finally:
            shutil.rmtree(root, ignore_errors=True)
        return
    assert given.path is not None
    root = Path(given.path).resolve()
    if not any(root.is_relative_to(allowed.resolve()) for allowed in policy.allowed):
        raise BadInput(
            "project.path: not a folder this service allows (its operator allows folders with "
            "`codegen serve --allow-project-path DIR`); send the project as `archive`"
        )
    if not root.is_dir():
        raise BadInput("project.path: no such folder on the server")
    yield root


def problem_in(request: ProblemInput, root: Path, context_tokens: int) -> Problem:
    """The request's problem, in the project at ``root``: ``project.function`` read there, or
    the given problem (or task) with its module context pointed at the folder."""
    assert request.project is not None
    function = request.project.function
    if function is not None:
        path, _, name = function.rpartition("::")
        module = (root / path).resolve()
        if not is_function_spec(function) or not module.is_relative_to(root.resolve()):
            raise BadInput("project.function: give path.py::name, the path inside the project")
        try:
            problem = function_problem(f"{module}::{name}", context_tokens, top=root)
        except BadInput as error:
            raise BadInput(str(error).replace(f"{root}/", "")) from None
        return _named_in_project(problem, root)
    problem = problem_of(request)
    if problem.context is None:
        return problem
    return problem.model_copy(
        update={"context": problem.context.model_copy(update={"root": str(root)})}
    )


def _named_in_project(problem: Problem, root: Path) -> Problem:
    """The problem with every path named from the project's root, as the client named it: no
    message or report names the server's folder."""
    context = problem.context
    text = problem.model_dump_json(exclude={"context"}).replace(f"{root}/", "")
    named = Problem.model_validate_json(text)
    return named.model_copy(update={"context": context})


def project_plan_in(problem: Problem, root: Path, policy: ProjectPolicy) -> ProjectPlan:
    """The plan that mounts ``root`` for ``problem``: its image built only if allowed."""
    return ProjectPlan(root, needs=third_party(problem), build=policy.build_images,
                       say=lambda _: None, name="the project")  # fmt: skip
