"""The job boundary: put the container back to its pristine state, then prove it.

Run by PID 1 only, which holds just the capabilities this needs (kill, override file modes and
owners, remove IPC objects of another user) while candidates run under a user of their own with
none. So nothing a candidate does to its files (``chmod 0``, deep trees, full mounts) or to IPC
(SysV shared memory, message queues, semaphores, POSIX message queues) can stop the clean-up,
and the clean-up never raises: what it cannot remove it reports, and the host then replaces the
container.

What "pristine" means is checked, not assumed, by :func:`leftovers`: no process but PID 1 and
the harness, nothing in the writable mounts, no IPC object, and shared memory back at the level
measured when the container started.
"""

from __future__ import annotations

import ctypes
import os
import signal
import time
from collections.abc import Callable

# Every place a candidate can write. /run/harness belongs to the harness and is not among them.
WRITABLE_ROOTS = ("/tmp", "/dev/shm", "/dev/mqueue")
SYSVIPC = ("shm", "msg", "sem")  # tables in /proc/sysvipc; the id is the second column
IPC_RMID = 0
MEMORY_STAT = ("/sys/fs/cgroup/memory/memory.stat", "/sys/fs/cgroup/memory.stat")
SHMEM_SLACK = 1 << 20  # bytes of shared memory above the baseline that still count as clean
KILL_WAIT_S = 2.0  # a SIGKILLed process is gone within microseconds unless stuck in the kernel
MAX_OPEN_DIRS = 48  # a directory met deeper is moved up to the root and emptied from there
_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC

_libc = ctypes.CDLL(None, use_errno=True)
_REMOVE = {
    "shm": lambda ident: _libc.shmctl(ident, IPC_RMID, None),
    "msg": lambda ident: _libc.msgctl(ident, IPC_RMID, None),
    "sem": lambda ident: _libc.semctl(ident, 0, IPC_RMID),
}


# -- processes ----------------------------------------------------------------------------
def other_processes(spare: set[int]) -> list[int]:
    """Every process in the container but PID 1 and ``spare``."""
    return [
        int(entry)
        for entry in os.listdir("/proc")
        if entry.isdigit() and int(entry) != 1 and int(entry) not in spare
    ]


def reap_orphans() -> int:
    """Reap every dead child; the sum of their peak RSS in KiB (what a candidate's children,
    orphaned to PID 1, used)."""
    total = 0
    try:
        while True:
            pid, _, usage = os.wait4(-1, os.WNOHANG)
            if not pid:
                break
            total += usage.ru_maxrss
    except ChildProcessError:
        pass
    return total


def signal_all_but(spare: set[int]) -> None:
    """SIGKILL every other process once, reaping nothing (the caller wants a child's usage)."""
    for pid in other_processes(spare):
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def kill_all_but(
    spare: set[int], deadline_s: float = KILL_WAIT_S, reaped_kb: list[int] | None = None
) -> list[int]:
    """SIGKILL every other process and reap what comes back to PID 1 (their peak RSS added to
    ``reaped_kb[0]``). Returns the survivors (a fork bomb outrunning us, a process stuck in the
    kernel): empty means done."""
    end = time.monotonic() + deadline_s
    while True:
        reaped = reap_orphans()
        if reaped_kb is not None:
            reaped_kb[0] += reaped
        others = other_processes(spare)
        if not others or time.monotonic() >= end:
            return others
        signal_all_but(spare)
        time.sleep(0.0002)


# -- files --------------------------------------------------------------------------------
class _Dir:
    __slots__ = ("fd", "name", "pending")

    def __init__(self, fd: int, name: str) -> None:
        self.fd, self.name = fd, name
        self.pending: list[str] | None = None  # subdirectories still to empty


def empty_directory(root: str, deadline: float) -> None:
    """Delete everything under ``root`` (a mount point), whatever its modes, depth or size.

    Iterative, on directory file descriptors (no path grows past PATH_MAX, no recursion), each
    directory listed once, and bounded: a directory met deeper than MAX_OPEN_DIRS is renamed up
    into ``root`` and emptied from there. Never raises; stops at ``deadline`` (what is left is
    then reported as a leftover)."""
    try:
        top = _Dir(os.open(root, _DIR_FLAGS), "")
    except OSError:
        return
    stack = [top]
    moved = 0
    try:
        while stack and time.monotonic() < deadline:
            here = stack[-1]
            if here.pending is None:
                here.pending = _unlink_files(here.fd, deadline)
            if not here.pending:
                stack.pop()
                if stack:
                    os.close(here.fd)
                    _quietly(os.rmdir, here.name, stack[-1].fd)
                continue
            child = here.pending.pop()
            if len(stack) >= MAX_OPEN_DIRS:
                moved += 1
                name = f".wipe-{time.monotonic_ns()}-{moved}"  # not a name a candidate can hold
                try:
                    os.rename(child, name, src_dir_fd=here.fd, dst_dir_fd=top.fd)
                    top.pending.append(name)  # type: ignore[union-attr]  # top was listed first
                except OSError:
                    pass
                continue
            try:
                stack.append(_Dir(os.open(child, _DIR_FLAGS, dir_fd=here.fd), child))
            except OSError:
                _quietly(os.unlink, child, here.fd)
    finally:
        for entry in stack:
            os.close(entry.fd)
        if top not in stack:
            os.close(top.fd)


def _unlink_files(fd: int, deadline: float) -> list[str]:
    """Unlink every non-directory in the directory ``fd``; return its subdirectories."""
    subdirectories = []
    try:
        with os.scandir(fd) as entries:
            for entry in entries:
                if time.monotonic() >= deadline:
                    break
                try:
                    is_dir = entry.is_dir(follow_symlinks=False)
                except OSError:
                    is_dir = False
                if is_dir:
                    subdirectories.append(entry.name)
                else:
                    _quietly(os.unlink, entry.name, fd)
    except OSError:
        pass
    return subdirectories


def _quietly(operation: Callable[..., object], name: str, dir_fd: int) -> None:
    try:
        operation(name, dir_fd=dir_fd)
    except OSError:
        pass


# -- IPC and memory -----------------------------------------------------------------------
def ipc_objects() -> dict[str, list[tuple[int, int]]]:
    """Every SysV IPC object in the container's IPC namespace: (id, creator uid) per table."""
    found: dict[str, list[tuple[int, int]]] = {}
    for table in SYSVIPC:
        try:
            with open(f"/proc/sysvipc/{table}") as handle:
                header, *rows = handle.read().splitlines()
        except (OSError, ValueError):
            continue
        creator = header.split().index("cuid")
        objects = [(int(row.split()[1]), int(row.split()[creator])) for row in rows]
        if objects:
            found[table] = objects
    return found


def remove_ipc() -> None:
    """IPC_RMID is allowed to an object's creator (or CAP_SYS_ADMIN, which nobody here has):
    act as the creator for each removal, then be root again."""
    for table, objects in ipc_objects().items():
        for ident, creator in objects:
            os.seteuid(creator)
            try:
                _REMOVE[table](ident)
            finally:
                os.seteuid(0)


def shared_memory_bytes() -> int:
    """Shared memory charged to the container (tmpfs files, SysV and POSIX shared memory):
    the only memory that can outlive the processes that made it."""
    for path in MEMORY_STAT:
        try:
            with open(path) as handle:
                for line in handle:
                    key, _, value = line.partition(" ")
                    if key in ("total_shmem", "shmem"):
                        return int(value)
        except OSError:
            continue
    return 0


# -- the whole boundary -------------------------------------------------------------------
def leftovers(spare: set[int], shmem_baseline: int) -> list[str]:
    """What differs from the pristine state; empty when the container is back to it."""
    found = [f"process {pid}" for pid in other_processes(spare)]
    for root in WRITABLE_ROOTS:
        try:
            names = os.listdir(root)
        except FileNotFoundError:
            continue
        except OSError as error:
            found.append(f"{root}: {error.strerror}")
            continue
        found += [f"{root}/{name}" for name in names[:5]]
        if len(names) > 5:
            found.append(f"{root}: {len(names) - 5} more entries")
    found += [f"SysV {table} {len(ids)} object(s)" for table, ids in ipc_objects().items()]
    shmem = shared_memory_bytes()
    if shmem > shmem_baseline + SHMEM_SLACK:
        found.append(f"shared memory {shmem >> 10} KiB, pristine {shmem_baseline >> 10} KiB")
    return found


def restore(spare: set[int], shmem_baseline: int, deadline_s: float = 3.0) -> list[str]:
    """Kill, wipe, remove IPC objects, then check: the leftovers (empty when pristine)."""
    deadline = time.monotonic() + deadline_s
    try:
        survivors = kill_all_but(spare)
        if survivors:  # never wipe under a live process: it could write behind us
            return [f"process {pid} survived SIGKILL" for pid in survivors]
        for root in WRITABLE_ROOTS:
            empty_directory(root, deadline)
        remove_ipc()
        return leftovers(spare, shmem_baseline)
    except Exception as error:  # never raise in PID 1: report, and the host recycles
        return [f"clean-up failed: {type(error).__name__}: {error}"]
