"""One warm, hardened container whose PID 1 is the harness server, spoken to over attach.

The container is created with StdinOnce, so when this process dies, however it dies, Docker
closes the server's stdin, the server exits and ``auto_remove`` deletes the container.
"""

from __future__ import annotations

import socket
import struct
import time
from collections.abc import Callable

import docker
from docker.errors import DockerException, NotFound

from .cgroup import peak_resetter
from .engine import LABEL
from .errors import SandboxUnavailable
from .harness import framing
from .models import PROJECT_DIR, Limits
from .owner import OWNER_LABEL, owner_id

_MUX = struct.Struct(">BxxxI")
MAX_FRAME = 16 * 1024 * 1024  # no answer of the harness is larger (it caps its own at 8 MiB)
# PID 1 starts as root with only what the job boundary needs (sandbox/harness/boundary.py):
# dropping to the harness and candidate users, killing their processes, removing their files
# whatever the modes, and their IPC objects. Both users keep none of them.
BOUNDARY_CAPABILITIES = ["SETUID", "SETGID", "SETPCAP", "KILL", "DAC_OVERRIDE", "FOWNER"]
# IPC in the container's own namespace: shared memory dies with its last user, and what a
# candidate can hold outside its processes' memory is a few MB.
IPC_SYSCTLS = {
    "kernel.shm_rmid_forced": "1",
    "kernel.shmmax": str(16 << 20),
    "kernel.shmall": str((16 << 20) // 4096),
    "kernel.shmmni": "32",
    "kernel.msgmni": "16",
    "kernel.msgmnb": "16384",
    "kernel.sem": "64 256 32 16",
    "fs.mqueue.queues_max": "16",
}
INODES = {"/tmp": 4096, "/dev/shm": 1024, "/run/harness": 1024}


class ContainerLost(Exception):
    """The container died, hung or broke the protocol; the pool replaces it. ``live`` names
    the candidate the harness last said was running, if any; ``deadline`` says the job ran out
    of time (the candidate's doing) rather than the container failing."""

    def __init__(self, message: str, live: str | None = None, deadline: bool = False) -> None:
        super().__init__(message)
        self.live = live
        self.deadline = deadline


def _tmpfs(size_mb: int, inodes: int, owner: str = "mode=1777") -> str:
    return f"rw,nosuid,nodev,noexec,size={size_mb}m,nr_inodes={inodes},{owner}"


def hardened_config(
    client: docker.DockerClient,
    image: str,
    limits: Limits,
    cpuset: str | None,
    runtime: str | None = None,
    command: list[str] | None = None,
    project: str | None = None,
) -> dict:
    """Everything isolation means here, in one place. ``command``: another PID 1 than the
    harness server (the strict backend's plain-pytest runner). ``project``: a folder of the
    host mounted read-only at PROJECT_DIR (a snapshot of a project's source)."""
    mounts = [] if project is None else [
        docker.types.Mount(PROJECT_DIR, project, type="bind", read_only=True)
    ]  # fmt: skip
    host_config = client.api.create_host_config(
        mounts=mounts,
        runtime=runtime,
        network_mode="none",
        read_only=True,
        tmpfs={
            "/tmp": _tmpfs(limits.tmp_mb, INODES["/tmp"]),
            "/dev/shm": _tmpfs(16, INODES["/dev/shm"]),
            "/run/harness": _tmpfs(16, INODES["/run/harness"], "mode=0700,uid=10001,gid=10001"),
        },
        cap_drop=["ALL"],
        cap_add=BOUNDARY_CAPABILITIES,
        security_opt=["no-new-privileges"],
        sysctls=IPC_SYSCTLS,
        mem_limit=f"{limits.memory_mb}m",
        memswap_limit=f"{limits.memory_mb}m",
        pids_limit=limits.pids,
        nano_cpus=int(limits.cpus * 1e9),
        cpuset_cpus=cpuset,
        ulimits=[
            docker.types.Ulimit(name="nofile", soft=1024, hard=1024),
            docker.types.Ulimit(name="core", soft=0, hard=0),
        ],
        ipc_mode="private",
        auto_remove=True,
        # every frame goes over attach; Docker's default log driver would also copy each one
        # to the host's disk, where a candidate's answers could fill it
        log_config=docker.types.LogConfig(type="none"),
    )
    return {
        "image": image,
        **({"command": command} if command else {}),
        "stdin_open": True,  # with detach=False this also sets StdinOnce
        "detach": False,
        "user": "0:0",  # PID 1 only: it drops every other process to a user of its own
        "hostname": "sandbox",
        "network_disabled": True,
        "labels": {LABEL: "1", OWNER_LABEL: owner_id()},
        "host_config": host_config,
    }


class WarmContainer:
    def __init__(
        self,
        client: docker.DockerClient,
        image: str,
        limits: Limits,
        cpuset: str | None = None,
        runtime: str | None = None,
        command: list[str] | None = None,
        project: str | None = None,
    ) -> None:
        self.client = client
        self.runtime = runtime
        self.command = command
        self.project = project
        self.image = image
        self.limits = limits
        self.cpuset = cpuset
        self.id: str | None = None
        self.sock: socket.socket | None = None
        self.buffer = bytearray()
        self.uses = 0
        self.reset_peak: Callable[[], bool] | None = None  # the cgroup's memory peak, if we may

    def start(self, timeout: float = 60.0) -> WarmContainer:
        api = self.client.api
        try:
            created = api.create_container(
                **hardened_config(
                    self.client,
                    self.image,
                    self.limits,
                    self.cpuset,
                    self.runtime,
                    self.command,
                    self.project,
                )  # fmt: skip
            )
            self.id = created["Id"]
            raw = api.attach_socket(
                self.id, params={"stdin": 1, "stdout": 1, "stderr": 1, "stream": 1}
            )
            self.sock = getattr(raw, "_sock", raw)
            self._response = raw  # keep the HTTP response alive with the socket
            api.start(self.id)
            self.reset_peak = peak_resetter(api.inspect_container(self.id)["State"]["Pid"])
        except DockerException as error:
            self.close()
            raise SandboxUnavailable(f"could not start a sandbox container: {error}") from None
        try:
            hello = self._read_frame(time.monotonic() + timeout)
        except ContainerLost as lost:
            self.close()
            raise SandboxUnavailable(f"the sandbox container did not start: {lost}") from None
        if not hello.get("ready"):
            self.close()
            raise SandboxUnavailable(f"the sandbox container said {hello!r} instead of ready")
        return self

    def exchange(self, message: dict, timeout: float) -> dict:
        """Send one job and wait for its answer; past `timeout` the container is killed.
        Progress frames on the way (``{"progress": {"live": id}}``) are remembered, so that a
        lost container can name the candidate that was running."""
        if self.sock is None:
            raise ContainerLost("container is closed")
        self.uses += 1
        message["peak_reset"] = self.reset_peak is not None and self.reset_peak()
        try:
            self.sock.sendall(framing.encode(message))
        except OSError as error:
            raise ContainerLost(f"sending the job failed: {error}") from None
        deadline = time.monotonic() + timeout
        live = None
        while True:
            try:
                frame = self._read_frame(deadline)
            except ContainerLost as lost:
                raise ContainerLost(str(lost), live, lost.deadline) from None
            if "progress" not in frame:
                return frame
            live = str(frame["progress"].get("live", "")) or None

    def _read_frame(self, deadline: float) -> dict:
        while True:
            if len(self.buffer) >= framing.HEADER.size:
                (size,) = framing.HEADER.unpack_from(self.buffer)
                if size > MAX_FRAME:
                    raise ContainerLost(f"the container sent a frame of {size} bytes")
                if len(self.buffer) >= framing.HEADER.size + size:
                    body = bytes(self.buffer[framing.HEADER.size : framing.HEADER.size + size])
                    del self.buffer[: framing.HEADER.size + size]
                    return framing.decode(body)
            stream, payload = self._read_mux(deadline)
            if stream == 1:
                self.buffer += payload

    def _read_mux(self, deadline: float) -> tuple[int, bytes]:
        header = self._recv_exact(_MUX.size, deadline)
        stream, size = _MUX.unpack(header)
        return stream, self._recv_exact(size, deadline)

    def _recv_exact(self, size: int, deadline: float) -> bytes:
        sock = self.sock
        if sock is None:  # closed by another thread while a job waits
            raise ContainerLost("container is closed")
        chunks = []
        while size:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise ContainerLost("no answer before the deadline", deadline=True)
            sock.settimeout(remaining)
            try:
                chunk = sock.recv(min(size, 1 << 20))
            except TimeoutError:
                raise ContainerLost("no answer before the deadline", deadline=True) from None
            except OSError as error:
                raise ContainerLost(f"connection lost: {error}") from None
            if not chunk:
                raise ContainerLost("the container closed the connection")
            chunks.append(chunk)
            size -= len(chunk)
        return b"".join(chunks)

    def close(self) -> None:
        """Kill and remove the container; safe to call twice."""
        if self.sock is not None:
            try:
                self.sock.close()
            except OSError:
                pass
            self.sock = None
        if self.id is not None:
            try:
                self.client.api.remove_container(self.id, force=True)
            except NotFound:
                pass
            except DockerException:
                pass
            self.id = None
