"""What the sandbox needs of a project to run its code: a snapshot of its source, mounted
read-only in every container (:mod:`codegen.project.snapshot`), and, when the problem needs
third-party modules (:mod:`codegen.project.needs`), an image with the project's dependencies
(:mod:`codegen.project.dependencies`, built once per dependency set by
:mod:`sandbox.project_image`). When nothing needs them, the plain sandbox image does, and no
image is built.

    async with ProjectPlan(root, needs={"numpy"}) as project:   # a sandbox.Project
        Sandbox(project=project)
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from codegen.errors import EnvironmentProblem
from codegen.problems import Problem
from codegen.project.dependencies import dependency_settings, read_dependencies
from codegen.project.needs import third_party
from codegen.project.snapshot import remove, take_snapshot
from sandbox import Project


def _stderr(line: str) -> None:
    print(f"codegen: {line}", file=sys.stderr, flush=True)


@dataclass
class ProjectPlan:
    """A project whose code a run executes in the sandbox; entered, the mounted Project.
    ``build``: may build the project's image when it is missing (a service's operator
    decides); ``say``: one line per step of a build, which takes minutes once."""

    root: Path
    needs: set[str] = field(default_factory=set)
    build: bool = True
    say: Callable[[str], None] = _stderr
    name: str = ""  # how messages name it (default: its folder)
    _snapshot: Path | None = field(default=None, init=False, repr=False)

    def image(self) -> str | None:
        """The project's image, built first when missing; None when the problem needs no
        third-party module, or the project declares none (the plain image then)."""
        if not self.needs:
            return None
        spec = read_dependencies(self.root, dependency_settings(self.root))
        if spec.empty:
            return None  # what is missing then fails to import, naming itself
        from sandbox import engine, image
        from sandbox.errors import SandboxUnavailable
        from sandbox.project_image import DependencyError, ensure_project_image

        client = engine.connect()
        base = image.ensure_image(client)
        try:
            built = ensure_project_image(
                client, base, spec.requirements, build=self.build, progress=lambda _: None
            )
        except DependencyError as error:
            raise EnvironmentProblem(f"{self.name or self.root}: {error}") from None
        except SandboxUnavailable as error:
            why = "" if self.build else (
                "; this service builds no image from a request unless its operator starts it "
                "with --build-project-images"
            )  # fmt: skip
            raise EnvironmentProblem(f"{error}{why}") from None
        if built.built:
            self.say(f"built the project's image {built.tag} ({len(spec.requirements)} "
                     f"requirement(s) from {spec.source}, {built.seconds:.0f} s, "
                     f"{built.size_mb:.0f} MB); later runs reuse it")  # fmt: skip
        return built.tag

    async def __aenter__(self) -> Project:
        self._snapshot = await asyncio.to_thread(take_snapshot, self.root)
        try:
            return Project(root=str(self._snapshot), image=await asyncio.to_thread(self.image))
        except BaseException:
            await self.__aexit__(None, None, None)
            raise

    async def __aexit__(self, *exc: Any) -> None:
        if self._snapshot is not None:
            await asyncio.to_thread(remove, self._snapshot)
            self._snapshot = None


@contextlib.asynccontextmanager
async def mounted(problem: Problem) -> AsyncIterator[Project | None]:
    """The problem's project, mounted, if it was read from one."""
    plan = project_plan(problem)
    if plan is None:
        yield None
        return
    async with plan as project:
        yield project


def project_plan(*problems: Problem, build: bool = True) -> ProjectPlan | None:
    """The plan of the project the problems were read from (the first one's), if any; it
    provides what any of them needs."""
    roots = [p.context.root for p in problems if p.context is not None and p.context.root]
    if not roots:
        return None
    needs = set().union(*(third_party(p) for p in problems))
    return ProjectPlan(Path(roots[0]), needs=needs, build=build)


def plans_by_project(problems: Sequence[Problem]) -> list[tuple[ProjectPlan | None, list[int]]]:
    """The problems' indexes grouped by the project they come from, each with its plan."""
    groups: dict[str, list[int]] = {}
    for index, problem in enumerate(problems):
        context = problem.context
        groups.setdefault(context.root if context and context.root else "", []).append(index)
    return [(project_plan(*(problems[i] for i in indexes)), indexes) for indexes in groups.values()]
