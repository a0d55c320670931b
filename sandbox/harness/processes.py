"""The harness's handle on candidate processes: spawn through the server, call, time, reap.

Every limit that concerns a single call lives here: the deadline, the output cap, the size of an
answer, and reading the candidate's CPU time from outside the candidate.
"""

from __future__ import annotations

import builtins
import json
import os
import pickle
import select
import signal
import socket
import time
from typing import Any

from . import framing, plaindata

STREAM_KEEP = 8_000
MAX_ANSWER = 64 * 1024 * 1024


class CandidateFault(BaseException):
    """The candidate broke a limit or died. A BaseException so that test code's
    ``except Exception`` cannot swallow it."""

    verdict = "crashed"


class CandidateTimeout(CandidateFault):
    verdict = "timeout"


class CandidateMemory(CandidateFault):
    verdict = "memory_limit"


class CandidateOutput(CandidateFault):
    verdict = "output_limit"


class CandidateCrashed(CandidateFault):
    verdict = "crashed"


class CandidateRaised(Exception):
    """Stands for an exception type the harness cannot rebuild (a candidate-defined class)."""


def _cgroup_cpu_reader():
    """Return a function giving the container's total CPU seconds, or None when unreadable.
    Counting the whole container charges a candidate for any helper process it starts."""
    for path in (
        "/sys/fs/cgroup/cpuacct/cpuacct.usage",
        "/sys/fs/cgroup/cpu,cpuacct/cpuacct.usage",
    ):
        try:
            fd = os.open(path, os.O_RDONLY)
        except OSError:
            continue

        def read_v1(fd: int = fd) -> float:
            return int(os.pread(fd, 64, 0)) / 1e9

        return read_v1
    try:
        fd = os.open("/sys/fs/cgroup/cpu.stat", os.O_RDONLY)
    except OSError:
        return None

    def read_v2(fd: int = fd) -> float:
        first = os.pread(fd, 128, 0).split(b"\n", 1)[0]
        return int(first.split()[1]) / 1e6

    return read_v2


CONTAINER_CPU = _cgroup_cpu_reader()


def process_cpu(pid: int) -> float:
    """The process-wide CPU clock of `pid`, read from outside it (CPUCLOCK_SCHED)."""
    try:
        return time.clock_gettime(((~pid) << 3) | 2)
    except OSError:
        return 0.0


class ServerLink:
    """The control socket to the in-container server, which forks candidates for us."""

    def __init__(self, control: socket.socket) -> None:
        self.control = control

    def spawn(self, source: str, limits: dict) -> tuple[int, list[int]]:
        request = {"op": "spawn", "source": source, "limits": limits}
        self.control.send(json.dumps(request).encode())
        message, fds, _, _ = socket.recv_fds(self.control, 1 << 16, 3)
        return json.loads(message)["pid"], fds

    def begin(self, wall_seconds: float) -> None:
        """Tell the server a job started, so that it can end the job if we overrun."""
        self.control.send(json.dumps({"op": "begin", "wall_seconds": wall_seconds}).encode())

    def end(self) -> bool:
        """Have the server kill and wipe what the job left; True when nothing survived."""
        self.control.send(json.dumps({"op": "end"}).encode())
        return json.loads(self.control.recv(1 << 16))["clean"]

    def reap(self, pid: int, grace: float) -> dict:
        self.control.send(json.dumps({"op": "reap", "pid": pid, "grace": grace}).encode())
        return json.loads(self.control.recv(1 << 16))


class Streams:
    """Captured stdout/stderr of all candidate processes of a job, capped in total."""

    def __init__(self, cap: int) -> None:
        self.cap = cap
        self.sizes = {1: 0, 2: 0}
        self.kept = {1: bytearray(), 2: bytearray()}

    def add(self, which: int, data: bytes) -> bool:
        """Keep the head of the stream; False once the total is over the cap."""
        self.sizes[which] += len(data)
        kept = self.kept[which]
        if len(kept) < STREAM_KEEP:
            kept += data[: STREAM_KEEP - len(kept)]
        return self.sizes[1] + self.sizes[2] <= self.cap

    def text(self, which: int) -> str:
        text = self.kept[which].decode("utf-8", "replace")
        cut = self.sizes[which] - len(self.kept[which])
        return text + (f"\n…[{cut} more bytes]" if cut else "")


class CandidateProcess:
    """One live candidate process. Created through :meth:`start`, which waits for its import."""

    def __init__(self, link: ServerLink, pid: int, fds: list[int], streams: Streams) -> None:
        self.link = link
        self.pid = pid
        self.call_fd, self.out_fd, self.err_fd = fds
        for fd in fds:
            os.set_blocking(fd, False)
        self.streams = streams
        self.alive = True
        self.usage: dict | None = None
        self.callables: list[str] = []
        self.constants: dict[str, Any] = {}

    @classmethod
    def start(
        cls,
        link: ServerLink,
        source: str,
        limits: dict,
        streams: Streams,
        deadline: float,
    ) -> CandidateProcess:
        pid, fds = link.spawn(source, limits)
        process = cls(link, pid, fds, streams)
        answer = process._await_answer(deadline, what="importing the candidate")
        process._check(answer)
        if answer[0] != "ready":
            process.finish()
            raise CandidateCrashed(f"unexpected answer at import: {answer[0]!r}")
        process.callables, process.constants = answer[1], answer[2]
        return process

    # -- calls ----------------------------------------------------------------------------
    def call(
        self,
        name: str,
        args: tuple,
        kwargs: dict,
        deadline: float,
        want_args: bool,
        meter: list[float] | None = None,
    ) -> tuple[Any, list | None]:
        """Call `name` in the candidate. With `meter`, add the CPU seconds the call cost."""
        try:
            request = pickle.dumps((name, args, kwargs, want_args), pickle.HIGHEST_PROTOCOL)
        except Exception as error:
            raise TypeError(f"cannot send the arguments to the candidate: {error}") from None
        before = self._cpu_now() if meter is not None else 0.0
        self._send(framing.HEADER.pack(len(request)) + request, deadline, name)
        answer = self._await_answer(deadline, what=f"calling {name}()")
        if meter is not None:
            meter[0] += self._cpu_now() - before
        self._check(answer)
        if answer[0] == "ok":
            return answer[1], answer[2]
        raise CandidateCrashed(f"unexpected answer {answer[0]!r}")

    def _send(self, data: bytes, deadline: float, name: str) -> None:
        view = memoryview(data)
        while view:
            try:
                view = view[os.write(self.call_fd, view) :]
            except BlockingIOError:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    self.finish()
                    raise CandidateTimeout(f"timed out sending arguments to {name}()") from None
                select.select([self.out_fd, self.err_fd], [self.call_fd], [], remaining)
                for fd in (self.out_fd, self.err_fd):
                    self._drain(fd)
            except (BrokenPipeError, ConnectionResetError):
                self._died(f"calling {name}()")

    def _cpu_now(self) -> float:
        """CPU seconds spent by the candidate and anything it started: the container's total
        minus this harness's own (serialising arguments, waiting), when the cgroup is readable."""
        if CONTAINER_CPU is None:
            return process_cpu(self.pid)
        return CONTAINER_CPU() - time.process_time()

    def _check(self, answer: tuple) -> None:
        kind = answer[0]
        if kind == "memory":
            self.finish()
            raise CandidateMemory("the candidate ran out of memory (MemoryError)")
        if kind == "raise":
            raise rebuild_exception(answer[1], answer[2])
        if kind == "notplain":
            raise TypeError(f"candidate {answer[1]}")

    def _await_answer(self, deadline: float, what: str) -> tuple:
        buffer = bytearray()
        needed: int | None = None
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                self.finish()
                raise CandidateTimeout(f"timed out {what}")
            ready, _, _ = select.select([self.call_fd, self.out_fd, self.err_fd], [], [], remaining)
            for fd in ready:
                if fd == self.call_fd:
                    chunk = _read(fd)
                    if not chunk:
                        self._died(what)
                    buffer += chunk
                else:
                    self._drain(fd)
            if needed is None and len(buffer) >= framing.HEADER.size:
                needed = framing.HEADER.unpack_from(buffer)[0] + framing.HEADER.size
                if needed > MAX_ANSWER:
                    self.finish()
                    raise CandidateOutput(f"the answer to {what} is over {MAX_ANSWER >> 20} MB")
            if needed is not None and len(buffer) >= needed:
                try:
                    return plaindata.loads_plain(bytes(buffer[framing.HEADER.size : needed]))
                except Exception as error:
                    self.finish()
                    raise CandidateCrashed(
                        f"the candidate sent a malformed answer: {error}"
                    ) from None

    def _drain(self, fd: int) -> None:
        chunk = _read(fd)
        if chunk and not self.streams.add(1 if fd == self.out_fd else 2, chunk):
            self.finish()
            raise CandidateOutput(f"the candidate printed more than {self.streams.cap} bytes")

    def _died(self, what: str) -> None:
        usage = self.finish(grace=0.2)
        status = usage.get("status")
        if status is None:
            raise CandidateCrashed(f"the candidate process vanished while {what}")
        if os.WIFSIGNALED(status):
            sig = os.WTERMSIG(status)
            if sig == signal.SIGXCPU:
                raise CandidateTimeout(f"CPU time limit hit while {what}")
            if sig == signal.SIGKILL and not usage.get("killed"):
                raise CandidateMemory(f"the candidate was killed (out of memory) while {what}")
            raise CandidateCrashed(f"the candidate died of signal {sig} while {what}")
        raise CandidateCrashed(
            f"the candidate exited with code {os.WEXITSTATUS(status)} while {what}"
        )

    # -- end ------------------------------------------------------------------------------
    def finish(self, grace: float = 0.0) -> dict:
        """Kill the candidate and everything it started; return its resource usage."""
        if not self.alive:
            return self.usage or {}
        self.alive = False
        for fd in (self.out_fd, self.err_fd):
            self._drain_quietly(fd)
        if grace <= 0:
            kill_others()
        self.usage = self.link.reap(self.pid, grace)
        kill_others()
        for fd in (self.call_fd, self.out_fd, self.err_fd):
            os.close(fd)
        return self.usage

    def _drain_quietly(self, fd: int) -> None:
        try:
            while chunk := _read(fd):
                self.streams.add(1 if fd == self.out_fd else 2, chunk)
        except OSError:
            pass


def kill_others() -> None:
    """SIGKILL every process but this harness and the immune PID 1: the candidate, and anything
    it forked or daemonised."""
    try:
        os.kill(-1, signal.SIGKILL)
    except ProcessLookupError:
        pass


def _read(fd: int) -> bytes:
    try:
        return os.read(fd, 1 << 20)
    except BlockingIOError:
        return b""


_BUILTIN_EXCEPTIONS = {
    name: value
    for name, value in vars(builtins).items()
    if isinstance(value, type) and issubclass(value, Exception)
}


def rebuild_exception(type_names: list[str], message: str) -> Exception:
    """Raise in the harness an exception of the candidate's builtin type, so that
    ``pytest.raises(ValueError)`` works across the boundary."""
    for name in type_names:
        cls = _BUILTIN_EXCEPTIONS.get(name)
        if cls is not None and cls is not Exception:
            try:
                return cls(message)
            except Exception:
                continue
    return CandidateRaised(message)
