"""Running a command's coroutine so that Ctrl-C ends the command within a second or two.

`asyncio.run` answers Ctrl-C by cancelling the command's task, which is what cleans up: the
`async with` blocks remove the sandbox containers and stop the embedded model servers. But it
then waits for every worker thread of the loop, and one may still be importing litellm (7 s
here) or blocked on a container that is already gone; after that the interpreter spends
seconds more tearing down those modules. So on Ctrl-C :func:`run` returns as soon as the task
has unwound, and :func:`exit_interrupted` ends the process at once with exit code 130 (128 +
SIGINT, as shells report it), after removing any sandbox container of this process that a
worker thread was still starting while the task unwound (it would otherwise stay until its
stdin closed, or until the next `codegen sandbox prune`).
"""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import Coroutine
from typing import Any, NoReturn, TypeVar

T = TypeVar("T")
INTERRUPTED = 130


def run(main: Coroutine[Any, Any, T]) -> T:
    """`asyncio.run(main)`, except that an interrupted run does not wait for worker threads."""
    runner = asyncio.Runner()
    try:
        result = runner.run(main)
    except KeyboardInterrupt:
        raise  # the task has unwound (its clean-up ran); the threads are left to the exit
    except BaseException:
        runner.close()
        raise
    runner.close()
    return result


def exit_interrupted(message: str = "codegen: interrupted") -> NoReturn:
    """Say so on stderr and end the process now: the clean-up already ran while the command's
    task unwound, and waiting for worker threads or module teardown only delays the prompt."""
    remove_own_containers()
    _flush()
    try:
        sys.stderr.write(message + "\n")
    except (OSError, ValueError):
        pass
    exit_now(INTERRUPTED)


def exit_now(code: int = 0) -> NoReturn:
    """End a process that has nothing left to clean up (its output written, no container or
    model server of its own) without the interpreter's teardown of its modules: a pipe waits
    0.1-0.2 s for that after the answer is out."""
    _flush()
    os._exit(code)


def _flush() -> None:
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):
            pass


def remove_own_containers(timeout_s: float = 3.0) -> int:
    """Remove the sandbox containers this process owns, if it used the sandbox at all."""
    if "sandbox.pool" not in sys.modules:
        return 0
    from sandbox.engine import LABEL
    from sandbox.owner import OWNER_LABEL, owner_id

    removed = 0
    try:
        import docker

        client = docker.from_env(timeout=int(timeout_s))
        mine = {"label": [LABEL, f"{OWNER_LABEL}={owner_id()}"]}
        for summary in client.api.containers(all=True, filters=mine):
            try:
                client.api.remove_container(summary["Id"], force=True)
                removed += 1
            except Exception:  # gone meanwhile (auto_remove): nothing left to do
                pass
    except Exception:  # no engine: then there is no container either
        return removed
    return removed
