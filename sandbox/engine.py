"""Connecting to the Docker engine, with an error that says how to fix a missing one."""

from __future__ import annotations

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


def connect(timeout: float = 60.0) -> docker.DockerClient:
    try:
        client = docker.from_env(timeout=int(timeout))
        client.ping()
    except (DockerException, OSError) as error:
        reason = str(error).split("\n")[0][:160]
        raise SandboxUnavailable(
            f"the Docker engine is not reachable ({reason}); start it with "
            "`scripts/ensure-docker.sh` (or `make docker`), or point DOCKER_HOST at one"
        ) from None
    return client
