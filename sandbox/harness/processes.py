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


def cpu_outside(candidate_pid: int) -> float:
    """CPU seconds spent in the container by everything but this harness and PID 1: the
    candidate and anything it started, import and module-level work included. Without a
    readable cgroup, the candidate process's own clock (its children then go uncounted)."""
    if CONTAINER_CPU is None:
        return process_cpu(candidate_pid) if candidate_pid else 0.0
    return CONTAINER_CPU() - time.process_time() - process_cpu(1)


class ServerLink:
    """The control socket to the in-container server, which forks candidates for us."""

    def __init__(self, control: socket.socket) -> None:
        self.control = control

    def _ask(self, message: dict) -> dict:
        self.control.send(json.dumps(message).encode())
        return json.loads(self.control.recv(1 << 16))

    def spawn(self, source: str, limits: dict, tag: str) -> tuple[int, list[int]]:
        request = {"op": "spawn", "source": source, "limits": limits, "tag": tag}
        self.control.send(json.dumps(request).encode())
        message, fds, _, _ = socket.recv_fds(self.control, 1 << 16, 3)
        return json.loads(message)["pid"], fds

    def ready(self) -> None:
        """Tell the server the harness is loaded: what it sees now is the pristine state."""
        self.control.send(json.dumps({"op": "baseline"}).encode())

    def begin(self, wall_seconds: float) -> None:
        """Tell the server a job started, so that it can end the job if we overrun."""
        self.control.send(json.dumps({"op": "begin", "wall_seconds": wall_seconds}).encode())

    def reset(self) -> dict:
        """Have the server kill, wipe and check: ``{"clean": bool, "leftovers": [...]}``."""
        return self._ask({"op": "reset"})

    def end(self) -> dict:
        """The job is over: the same as :meth:`reset`, and the job's deadline is lifted."""
        return self._ask({"op": "end"})

    def finish(self, pid: int, grace: float, reset: bool = False) -> dict:
        """Kill the candidate (after ``grace`` seconds) and all it started; its usage. With
        ``reset``, also what :meth:`reset` does and says, in the same round trip."""
        return self._ask({"op": "finish", "pid": pid, "grace": grace, "reset": reset})


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
        tag: str = "",
    ) -> CandidateProcess:
        pid, fds = link.spawn(source, limits, tag)
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
        return cpu_outside(self.pid)

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
                return self._decode(bytes(buffer[framing.HEADER.size : needed]))

    def _decode(self, body: bytes) -> tuple:
        try:
            answer = plaindata.loads_plain(body)
        except plaindata.NotPlainData as error:
            return ("notplain", f"returned {error}")
        except MemoryError:
            self.finish()
            raise CandidateMemory("the candidate's answer is too large to read") from None
        except Exception as error:
            self.finish()
            raise CandidateCrashed(f"the candidate sent a malformed answer: {error}") from None
        if not isinstance(answer, tuple) or not answer or not isinstance(answer[0], str):
            self.finish()
            raise CandidateCrashed("the candidate sent a malformed answer")
        return answer

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
    def finish(self, grace: float = 0.0, reset: bool = False) -> dict:
        """Kill the candidate and everything it started; return its resource usage (and, with
        ``reset``, the server's report on restoring the pristine state)."""
        if not self.alive:
            return self.usage or {}
        self.alive = False
        for fd in (self.out_fd, self.err_fd):
            self._drain_quietly(fd)
        self.usage = self.link.finish(self.pid, grace, reset)
        for fd in (self.call_fd, self.out_fd, self.err_fd):
            os.close(fd)
        return self.usage

    def _drain_quietly(self, fd: int) -> None:
        try:
            while chunk := _read(fd):
                self.streams.add(1 if fd == self.out_fd else 2, chunk)
        except OSError:
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
