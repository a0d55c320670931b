"""Who owns a container: this host, this process and its start time, so that `prune` can tell a
live run's containers from those a killed process left behind."""

from __future__ import annotations

import os
import socket
from functools import cache

OWNER_LABEL = "codegen.owner"


def _start_time(pid: int) -> str | None:
    try:
        with open(f"/proc/{pid}/stat") as handle:
            return handle.read().rsplit(")", 1)[1].split()[19]
    except (OSError, IndexError):
        return None


@cache
def owner_id() -> str:
    pid = os.getpid()
    return f"{socket.gethostname()}:{pid}:{_start_time(pid)}"


def owner_alive(owner: str) -> bool:
    try:
        host, pid, started = owner.rsplit(":", 2)
        pid_number = int(pid)
    except ValueError:
        return False
    if host != socket.gethostname():
        return True  # another machine's container: not ours to judge
    return _start_time(pid_number) == started
