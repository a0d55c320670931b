"""Connecting to the Docker engine, with an error that says how to fix a missing one."""

from __future__ import annotations

import os

import docker
from docker.errors import DockerException

from .errors import SandboxUnavailable

LABEL = "codegen.sandbox"


def require_runtime(client: docker.DockerClient, runtime: str) -> None:
    """A clear error, before any container, when Docker does not know the runtime asked for."""
    known = sorted((client.info().get("Runtimes") or {}).keys())
    if runtime not in known:
        hint = (
            "install gVisor (apt-get install runsc) and register it: "
            'dockerd --add-runtime runsc=/usr/bin/runsc, or "runtimes" in '
            "/etc/docker/daemon.json, then restart dockerd"
            if runtime == "runsc"
            else "register it with dockerd --add-runtime NAME=PATH"
        )
        raise SandboxUnavailable(
            f"the container runtime {runtime!r} is not installed in Docker "
            f"(it has: {', '.join(known) or 'none'}): {hint}"
        )


DEFAULT_SOCKET = "unix:///var/run/docker.sock"


def connect(timeout: float = 60.0) -> docker.DockerClient:
    try:
        client = docker.from_env(timeout=int(timeout))
        client.ping()
    except (DockerException, OSError) as error:
        raise SandboxUnavailable(unreachable(error)) from None
    return client


def unreachable(error: BaseException) -> str:
    """One line a user can act on: where the engine was looked for, what went wrong there in
    words (not the SDK's nested exception tuple), and commands that fix it."""
    where = os.environ.get("DOCKER_HOST") or DEFAULT_SOCKET
    cause = _os_error(error)
    if isinstance(cause, PermissionError):
        return (
            f"the Docker engine at {where} refused this user (permission denied): add yourself "
            "to the docker group (`sudo usermod -aG docker $USER`, then log in again), or run "
            "as a user who may use Docker"
        )
    if isinstance(cause, FileNotFoundError):
        what = "no Docker engine is running (no socket there)"
    elif isinstance(cause, ConnectionRefusedError) or "refused" in str(error).lower():
        what = "nothing answers there"
    else:
        what = " ".join(str(cause or error).split())[:120] or type(error).__name__
    return (
        f"the Docker engine is not reachable at {where}: {what}; start Docker (`sudo "
        "systemctl start docker`, or open Docker Desktop) and check with `docker info`, or set "
        "DOCKER_HOST to a running engine"
    )


def _os_error(error: BaseException) -> OSError | None:
    """The operating system's own error inside the SDK's wrapping (causes and arguments)."""
    pending: list[object] = [error]
    seen: set[int] = set()
    while pending:
        item = pending.pop()
        if not isinstance(item, BaseException) or id(item) in seen:
            continue
        seen.add(id(item))
        if isinstance(item, OSError) and item.errno is not None:
            return item
        pending.extend([item.__cause__, item.__context__, *item.args])
    return None
