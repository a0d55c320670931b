"""The harness's handle on candidate processes: spawn through the server, call, time, reap.

Every limit that concerns a single call lives here: the deadline, the output cap (per process),
the size of an answer, and reading the candidate's CPU time from outside the candidate. What a
call prints is handed to the harness's own ``sys.stdout``/``sys.stderr`` when the call returns,
so that a test capturing output (``capsys``) sees it as it would in one process.
"""

from __future__ import annotations

import json
import os
import pickle
import select
import signal
import socket
import sys
import time
from collections.abc import Callable
from typing import Any

from . import framing, plaindata, wire

STREAM_KEEP = 8_000
# An answer's pickle may be at most this large: unpickled in the harness it takes several
# times as much, in the memory the candidate's container shares.
MAX_ANSWER = 16 * 1024 * 1024


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
MEMORY_DIRS = ("/sys/fs/cgroup/memory", "/sys/fs/cgroup")
_PEAK = {"memory.max_usage_in_bytes": "memory.usage_in_bytes", "memory.peak": "memory.current"}


class MemoryMeter:
    """The container's memory peak over one job, the host having reset it just before
    (:mod:`sandbox.cgroup`): everything the job's processes held at once, children and tmpfs
    files included, less the page cache the job brought in (reading a module's files is not
    the candidate's memory, and stays charged to whoever read it first)."""

    def __init__(self) -> None:
        self.paths = _peak_paths()
        self.baseline = _read_int(self.paths[1]) if self.paths else 0
        self.start_cache = _file_cache()

    def peak_bytes(self) -> int:
        if self.paths is None:
            return 0
        cache = max(0, _file_cache() - self.start_cache)
        return max(0, _read_int(self.paths[0]) - self.baseline - cache)


def _peak_paths() -> tuple[str, str] | None:
    for root in MEMORY_DIRS:
        for peak, current in _PEAK.items():
            if os.path.exists(f"{root}/{peak}"):
                return f"{root}/{peak}", f"{root}/{current}"
    return None


def _read_int(path: str) -> int:
    try:
        with open(path) as handle:
            return int(handle.read().split()[0])
    except (OSError, ValueError, IndexError):
        return 0


def _file_cache() -> int:
    """Page cache of files, tmpfs excluded (tmpfs files are memory a candidate holds)."""
    for root in MEMORY_DIRS:
        try:
            with open(f"{root}/memory.stat") as handle:
                stat = dict(line.split() for line in handle if line.count(" ") == 1)
        except OSError:
            continue
        cache = int(stat.get("total_cache", stat.get("file", 0)))
        shmem = int(stat.get("total_shmem", stat.get("shmem", 0)))
        return max(0, cache - shmem)
    return 0


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
    # The cgroup's counter takes a running task's CPU only when the scheduler accounts it (at
    # a tick, up to 4 ms late, or a switch), while process_time() is exact and accounts the
    # calling thread as it reads: reading it first has the harness's own time in the
    # counter too, or every sample is off by up to a tick.
    time.process_time()
    total = CONTAINER_CPU()
    return total - time.process_time() - process_cpu(1)


class ServerLink:
    """The control socket to the in-container server, which forks candidates for us."""

    def __init__(self, control: socket.socket) -> None:
        self.control = control

    def _ask(self, message: dict) -> dict:
        self.control.send(json.dumps(message).encode())
        return json.loads(self.control.recv(1 << 16))

    def spawn(self, hypothesis: bool = False) -> tuple[int, list[int]]:
        """A fresh candidate process, waiting for its job: its pid and our ends of its call
        socket, stdout and stderr. The server learns nothing of the job but ``hypothesis``: a
        process with hypothesis imported, for the host's drawing program."""
        self.control.send(json.dumps({"op": "spawn", "hypothesis": hypothesis}).encode())
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
    """Captured stdout/stderr of a job's candidate processes: each process may print up to
    ``cap`` bytes (so one candidate's output never counts against another's, nor one round's
    against the next), and the job keeps the head of each stream for its report."""

    def __init__(self, cap: int) -> None:
        self.cap = cap
        self.sizes = {1: 0, 2: 0}
        self.process_bytes = 0
        self.kept = {1: bytearray(), 2: bytearray()}
        self.pending = {1: bytearray(), 2: bytearray()}  # printed during the current call

    def new_process(self) -> None:
        self.process_bytes = 0
        self.forget_pending()

    def forget_pending(self) -> None:
        for buffer in self.pending.values():
            buffer.clear()

    def add(self, which: int, data: bytes) -> bool:
        """Keep the head of the stream; False once this process is over the cap."""
        self.sizes[which] += len(data)
        self.process_bytes += len(data)
        kept = self.kept[which]
        if len(kept) < STREAM_KEEP:
            kept += data[: STREAM_KEEP - len(kept)]
        if self.process_bytes <= self.cap:
            self.pending[which] += data
        return self.process_bytes <= self.cap

    def echo(self) -> None:
        """Hand what the current call printed to the harness's streams (a test's capsys)."""
        for which, stream in ((1, sys.stdout), (2, sys.stderr)):
            data = self.pending[which]
            if data:
                try:
                    stream.write(data.decode("utf-8", "replace"))
                except Exception:
                    pass
                data.clear()

    def text(self, which: int) -> str:
        text = self.kept[which].decode("utf-8", "replace")
        cut = self.sizes[which] - len(self.kept[which])
        return text + (f"\n…[{cut} more bytes]" if cut else "")


class CandidateProcess:
    """One live candidate process. Created through :meth:`start`, which waits for its import."""

    def __init__(
        self,
        link: ServerLink,
        pid: int,
        fds: list[int],
        streams: Streams,
        classes: dict[str, type] | None = None,
    ) -> None:
        self.link = link
        self.pid = pid
        self.call_fd, self.out_fd, self.err_fd = fds
        for fd in fds:
            os.set_blocking(fd, False)
        self.streams = streams
        streams.new_process()
        self.alive = True
        self.usage: dict | None = None
        self.exports: dict[str, Any] = {}
        # stand-ins for the candidate's exception classes, by name: shared by a job's
        # processes, so that a class a test imported matches what every process raises
        self.classes: dict[str, type] = {} if classes is None else classes

    @classmethod
    def start(
        cls,
        link: ServerLink,
        source: str,
        limits: dict,
        streams: Streams,
        deadline: float,
        classes: dict[str, type] | None = None,
        module: dict | None = None,
        on_waiting: Callable[[], None] | None = None,
        hypothesis: bool = False,
    ) -> CandidateProcess:
        """A fresh process importing ``source`` (as the project's ``module``, when given); the
        job it is given is the same, whatever the job it serves (a test run or a timing
        round). ``on_waiting`` runs once the process is set up and before it gets its job."""
        pid, fds = link.spawn(hypothesis)
        process = cls(link, pid, fds, streams, classes)
        waiting = process._await_answer(deadline, what="starting the candidate")
        if waiting != ("waiting",):
            process.finish()
            raise CandidateCrashed(f"unexpected answer at start: {waiting[0]!r}")
        if on_waiting is not None:
            on_waiting()
        job = {
            "source": source,
            "memory_mb": limits["candidate_memory_mb"],
            "cpu_seconds": limits["cpu_seconds"],
            "file_bytes": limits["output_bytes"],
            "module": module,
        }
        process._send(framing.encode(job), deadline, "importing the candidate")
        answer = process._await_answer(deadline, what="importing the candidate")
        process._check(answer, [])
        if answer[0] != "ready" or not isinstance(answer[1], dict):
            process.finish()
            raise CandidateCrashed(f"unexpected answer at import: {answer[0]!r}")
        process.exports = answer[1]
        streams.forget_pending()  # what it printed at import belongs to no test: kept, not shown
        return process

    @property
    def callables(self) -> list[str]:
        return [name for name, kind in self.exports.items() if kind == "function"]

    def exception_classes(self) -> dict[str, type]:
        """The harness's stand-ins for the exception classes the candidate defines."""
        return {
            name: wire.exception_class(name, kind, self.classes)
            for name, kind in self.exports.items()
            if isinstance(kind, list)
        }

    def constant(self, name: str, deadline: float) -> Any:
        """The value of the candidate's top-level ``name`` (plain data), asked for once."""
        self._send(_frame(pickle.dumps(("get", name), wire.PROTOCOL)), deadline, name)
        answer = self._await_answer(deadline, what=f"reading {name}")
        self._check(answer, [])
        return answer[1]

    # -- calls ----------------------------------------------------------------------------
    def call(
        self,
        name: str,
        args: tuple,
        kwargs: dict,
        deadline: float,
        meter: list[float] | None = None,
    ) -> tuple[Any, list]:
        """Call ``name`` in the candidate as if in this process (see :mod:`wire`): its value,
        and which of the caller's mutable arguments it changed (their new state, or None
        each). With ``meter``, add the CPU seconds the call cost."""
        request, table = wire.pack_call(name, args, kwargs)
        before = self._cpu_now() if meter is not None else 0.0
        self._send(_frame(request), deadline, name)
        del request
        answer = self._await_answer(deadline, what=f"calling {name}()")
        if meter is not None:
            meter[0] += self._cpu_now() - before
        self.streams.echo()
        return self._check(answer, table)

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

    def _check(self, answer: tuple, table: list) -> tuple[Any, list]:
        try:
            return act_on(answer, table, self.classes)
        except (CandidateCrashed, CandidateMemory):
            self.finish()
            raise

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
            return wire.read_answer(body)
        except plaindata.NotPlainData as error:
            return ("notplain", f"returned {error}")
        except MemoryError:
            self.finish()
            raise CandidateMemory("the candidate's answer is too large to read") from None
        except Exception as error:
            self.finish()
            raise CandidateCrashed(f"the candidate sent a malformed answer: {error}") from None

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


def act_on(answer: tuple, table: list, classes: dict[str, type]) -> tuple[Any, list]:
    """Act on a candidate's answer to a call: the value and what it changed of an ``ok``
    (:func:`wire.settle`), the candidate's exception raised here (its changes to the arguments
    applied first), a fault for the rest."""
    kind = answer[0]
    try:
        if kind == "ok" and len(answer) == 3:
            changes = _changes(table, answer[2])
            return wire.settle(answer, table), changes
        if kind == "raise" and len(answer) in (5, 6):
            if len(answer) == 6:
                wire.settle(("ok", None, answer[5]), table)
            raise wire.exception_from(answer, classes)
    except wire.AnswerError as error:
        raise CandidateCrashed(str(error)) from None
    if kind == "memory":
        raise CandidateMemory("the candidate ran out of memory (MemoryError)")
    if kind == "notplain":
        raise TypeError(f"candidate {answer[1] if len(answer) > 1 else 'sent no value'}")
    if kind in ("ready", "value") and len(answer) == 2:
        return answer[1], []
    raise CandidateCrashed(f"unexpected answer {kind!r}")


def _frame(body: bytes) -> bytes:
    return framing.HEADER.pack(len(body)) + body


def _changes(table: list, returned: Any) -> list:
    """The new state of each of the caller's mutable arguments the call changed, else None:
    what an answer's digest covers besides the value."""
    if not isinstance(returned, list) or len(returned) != len(table):
        return []
    changes = []
    for mine, theirs in zip(table, returned, strict=True):
        try:
            same = type(mine) is type(theirs) and mine == theirs
        except Exception:
            same = False
        changes.append(None if same else theirs)
    return changes
