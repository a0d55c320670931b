"""The container's memory peak, reset from the host before each job.

Inside the container the cgroup files are read-only, and the kernel keeps the largest memory
use the cgroup ever had. So the host, which may write them when it runs as root beside the
engine, resets the peak (``memory.max_usage_in_bytes`` on cgroup v1, ``memory.peak`` on v2
kernels that allow it) before each test job; the harness then reads the peak the job reached:
every process of the candidate counted, children it never waited for, files it wrote to the
tmpfs mounts and the harness's copy of its answers included. Where the host cannot reset it
(a non-root user, a remote engine), :func:`peak_resetter` says so and the harness falls back to
summing the peak RSS of the candidate's processes (:mod:`sandbox.harness.server`).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

ROOTS = (Path("/sys/fs/cgroup/memory"), Path("/sys/fs/cgroup"))
PEAK_FILES = ("memory.max_usage_in_bytes", "memory.peak")


def peak_resetter(container_pid: int) -> Callable[[], bool] | None:
    """A function that resets the peak of the cgroup holding ``container_pid`` (a process of
    the container seen from the host), or None when this process cannot."""
    path = _peak_file(container_pid)
    if path is None:
        return None

    def reset() -> bool:
        try:
            fd = os.open(path, os.O_WRONLY)
        except OSError:
            return False
        try:
            os.write(fd, b"0")
            return True
        except OSError:
            return False
        finally:
            os.close(fd)

    return reset if reset() else None


def _peak_file(pid: int) -> Path | None:
    try:
        lines = Path(f"/proc/{pid}/cgroup").read_text().splitlines()
    except OSError:
        return None
    for line in lines:
        _, controllers, path = line.split(":", 2)
        if controllers == "memory" or (controllers == "" and path.startswith("/")):
            for root in ROOTS:
                for name in PEAK_FILES:
                    candidate = root / path.lstrip("/") / name
                    if candidate.exists():
                        return candidate
    return None
