"""Remove sandbox containers that nobody is using any more."""

from __future__ import annotations

import docker
from docker.errors import DockerException

from .engine import LABEL
from .owner import OWNER_LABEL, owner_alive


def prune(client: docker.DockerClient, everything: bool = False) -> int:
    """Remove containers left by dead processes (all sandbox containers with `everything`)."""
    removed = 0
    # The summaries carry the labels: inspecting each container would race with containers
    # that remove themselves (auto_remove) between the listing and the inspection.
    for summary in client.api.containers(all=True, filters={"label": LABEL}):
        owner = (summary.get("Labels") or {}).get(OWNER_LABEL, "")
        if everything or not owner_alive(owner):
            try:
                client.api.remove_container(summary["Id"], force=True)
                removed += 1
            except DockerException:
                pass
    return removed
