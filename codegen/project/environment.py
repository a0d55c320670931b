"""What the sandbox needs of a project to run its code: a snapshot of its source, mounted
read-only in every container (:mod:`codegen.project.snapshot`), and an image with its
dependencies (:mod:`codegen.project.dependencies`, built by :mod:`sandbox.project_image`).

    async with ProjectPlan(root) as project:    # a sandbox.Project: the snapshot, the image
        Sandbox(project=project)
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from codegen.problems import Problem
from codegen.project.snapshot import remove, take_snapshot
from sandbox import Project


@dataclass
class ProjectPlan:
    """A project whose code a run executes in the sandbox; entered, the mounted Project."""

    root: Path
    _snapshot: Path | None = field(default=None, init=False, repr=False)

    async def image(self) -> str | None:
        """The project's image (None: the plain sandbox image will do)."""
        return None

    async def __aenter__(self) -> Project:
        self._snapshot = await asyncio.to_thread(take_snapshot, self.root)
        try:
            return Project(root=str(self._snapshot), image=await self.image())
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


def project_plan(problem: Problem) -> ProjectPlan | None:
    """The plan of the project a problem was read from, if it was read from one."""
    context = problem.context
    if context is None or context.root is None:
        return None
    return ProjectPlan(Path(context.root))
