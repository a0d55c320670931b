"""Connecting to the Docker engine, with an error that says how to fix a missing one."""

from __future__ import annotations

import docker
from docker.errors import DockerException

from .errors import SandboxUnavailable

LABEL = "codegen.sandbox"


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
