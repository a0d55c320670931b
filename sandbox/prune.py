"""Remove sandbox containers that nobody is using any more."""

from __future__ import annotations

import docker
from docker.errors import DockerException

from .engine import LABEL
from .owner import OWNER_LABEL, owner_alive


def prune(client: docker.DockerClient, everything: bool = False) -> int:
    """Remove containers left by dead processes (all sandbox containers with `everything`)."""
    removed = 0
    for container in client.containers.list(all=True, filters={"label": LABEL}):
        owner = container.labels.get(OWNER_LABEL, "")
        if everything or not owner_alive(owner):
            try:
                container.remove(force=True)
                removed += 1
            except DockerException:
                pass
    return removed
