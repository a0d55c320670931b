"""PID 1 of a warm sandbox container: small, pristine, and impossible to kill from inside.

It starts one long-lived *harness* (which has pytest loaded and speaks to the host on stdin and
stdout) and, on the harness's request, forks *candidate* processes from its own pristine state:
it never imports pytest and never sees a test, so a candidate finds nothing of them in memory.
The kernel drops signals from inside the container that PID 1 has no handler for, so a candidate
can kill the harness (the job then ends "crashed") but never this process. When the harness dies
or a job overruns its wall-clock limit, this process reports it to the host and exits, and the
host replaces the container.
"""

from __future__ import annotations

import ctypes
import json
import os
import select
import shutil
import signal
import socket
import sys
import time
from typing import NamedTuple

from . import candidate, framing

WRITABLE_ROOTS = ("/tmp", "/dev/shm")
WORK_DIR = "/tmp/work"
_MAX_FD = 1024


def set_dumpable(flag: bool) -> None:
    """A non-dumpable process's /proc entries and memory are closed to same-uid processes."""
    try:
        ctypes.CDLL(None, use_errno=True).prctl(4, int(flag), 0, 0, 0)  # PR_SET_DUMPABLE
    except Exception:
        pass


def wipe_writable() -> None:
    """Delete everything in the writable mounts, so nothing a candidate wrote survives it."""
    for root in WRITABLE_ROOTS:
        try:
            entries = os.listdir(root)
        except OSError:
            continue
        for entry in entries:
            path = os.path.join(root, entry)
            if os.path.isdir(path) and not os.path.islink(path):
                shutil.rmtree(path, ignore_errors=True)
            else:
                try:
                    os.unlink(path)
                except OSError:
                    pass


def other_processes(spare: set[int]) -> list[int]:
    """Every process in the container but PID 1 and `spare`, read from /proc."""
    return [
        int(p) for p in os.listdir("/proc") if p.isdigit() and int(p) != 1 and int(p) not in spare
    ]


def kill_all_but(spare: set[int], deadline_s: float = 3.0) -> bool:
    """SIGKILL every other process and reap what comes back to PID 1; False if something
    survived (a fork bomb outrunning us), so that the host recycles the container."""
    end = time.monotonic() + deadline_s
    while time.monotonic() < end:
        reap_orphans()
        others = other_processes(spare)
        if not others:
            return True
        for pid in others:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        time.sleep(0.0002)
    return False


def reap_orphans() -> None:
    try:
        while os.waitpid(-1, os.WNOHANG)[0]:
            pass
    except ChildProcessError:
        pass


class Seed(NamedTuple):
    pid: int
    fds: list[int]  # the harness's ends: call socket, stdout, stderr
    go_w: int


class Server:
    def __init__(self) -> None:
        self.trusted_path = [p for p in sys.path if p and not p.startswith("/tmp")]
        self.seed: Seed | None = None
        self.harness_pid = 0
        self.control: socket.socket | None = None
        self.host_out = -1
        self.deadline: float | None = None

    # -- the harness ----------------------------------------------------------------------
    def start_harness(self) -> None:
        """Fork the harness, which keeps the host's stdin and stdout; keep only a spare copy of
        stdout, to report the harness's death."""
        control, control_child = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        pid = os.fork()
        if pid == 0:
            try:
                control.close()
                from . import runner

                runner.serve(control_child)
            finally:
                os._exit(0)
        control_child.close()
        self.harness_pid, self.control = pid, control
        self.host_out = os.dup(1)
        devnull = os.open(os.devnull, os.O_RDWR)
        for fd in (0, 1):
            os.dup2(devnull, fd)
        os.close(devnull)

    # -- candidates -----------------------------------------------------------------------
    def fork_seed(self) -> Seed:
        """Fork a candidate process that waits for its source. Done between jobs, so a job's
        first candidate costs no fork on its critical path."""
        call_parent, call_child = socket.socketpair()
        out_r, out_w = os.pipe()
        err_r, err_w = os.pipe()
        go_r, go_w = os.pipe()
        pid = os.fork()
        if pid == 0:
            try:
                request = framing.read_frame(go_r)
                if request is not None:
                    self._become_candidate(request, call_child.fileno(), out_w, err_w)
            finally:
                os._exit(70)
        for end in (out_w, err_w, go_r):
            os.close(end)
        call_child.close()
        return Seed(pid, [call_parent.detach(), out_r, err_r], go_w)

    def _become_candidate(self, request: dict, call_fd: int, out_w: int, err_w: int) -> None:
        os.setsid()
        os.dup2(out_w, 1)
        os.dup2(err_w, 2)
        os.dup2(call_fd, candidate.CALL_FD)
        os.closerange(candidate.CALL_FD + 1, _MAX_FD)
        set_dumpable(True)
        os.makedirs(WORK_DIR, exist_ok=True)
        limits = request["limits"]
        candidate.set_limits(
            limits["candidate_memory_mb"], limits["cpu_seconds"], limits["output_bytes"]
        )
        candidate.serve(request["source"], WORK_DIR, self.trusted_path)

    def spawn_candidate(self, request: dict) -> tuple[int, list[int]]:
        """Start a candidate: the waiting seed if it is still alive, else a fresh fork."""
        seed, self.seed = self.seed, None
        if seed is not None and not _alive(seed.pid):
            for fd in (*seed.fds, seed.go_w):
                os.close(fd)
            seed = None
        seed = seed or self.fork_seed()
        try:
            framing.write_frame(seed.go_w, request)
        except OSError:
            pass  # the seed died just now; the harness sees a dead candidate
        os.close(seed.go_w)
        return seed.pid, seed.fds

    def reap(self, pid: int, grace_s: float) -> dict:
        """Wait for a candidate; kill it if it is still alive after `grace_s`."""
        killed = False
        end = time.monotonic() + grace_s
        try:
            while True:
                done, status, usage = os.wait4(pid, os.WNOHANG)
                if done:
                    break
                if time.monotonic() >= end and not killed:
                    os.kill(pid, signal.SIGKILL)
                    killed = True
                time.sleep(0.0002)
        except ChildProcessError:
            return {"status": None, "killed": killed, "maxrss_kb": 0, "cpu": 0.0}
        return {
            "status": status,
            "killed": killed,
            "maxrss_kb": usage.ru_maxrss,
            "cpu": usage.ru_utime + usage.ru_stime,
        }

    # -- the loop -------------------------------------------------------------------------
    def answer(self, message: dict) -> None:
        op = message["op"]
        if op == "spawn":
            pid, fds = self.spawn_candidate(message)
            socket.send_fds(self.control, [json.dumps({"pid": pid}).encode()], fds)
            for fd in fds:
                os.close(fd)
        elif op == "reap":
            reply = self.reap(message["pid"], message.get("grace", 0.05))
            self.control.send(json.dumps(reply).encode())
        elif op == "begin":
            self.deadline = time.monotonic() + float(message["wall_seconds"])
        elif op == "end":  # the harness has finished the job: clean up before it answers
            clean = kill_all_but({self.harness_pid})
            wipe_writable()
            self.deadline = None
            self.control.send(json.dumps({"clean": clean}).encode())
            self.seed = self.fork_seed()  # while the host reads the answer

    def serve_forever(self) -> None:
        self.start_harness()
        self.seed = self.fork_seed()
        while True:
            timeout = None if self.deadline is None else max(0.0, self.deadline - time.monotonic())
            readable, _, _ = select.select([self.control], [], [], timeout)
            if not readable:
                return self.give_up("timeout", "the job ran past its wall-clock limit")
            try:
                message = self.control.recv(1 << 22)
            except OSError:
                message = b""
            if not message:
                if self.deadline is None:
                    return  # the host closed stdin: the harness left, and so do we
                return self.give_up("crashed", "the test harness was killed (by the candidate?)")
            self.answer(json.loads(message))
            reap_orphans()

    def give_up(self, verdict: str, message: str) -> None:
        """Report a job the harness cannot finish, then exit so the host replaces us."""
        kill_all_but(set())
        framing.write_frame(self.host_out, {"verdict": verdict, "message": message, "clean": False})


def _alive(pid: int) -> bool:
    try:
        return os.waitpid(pid, os.WNOHANG)[0] == 0
    except ChildProcessError:
        return False


def main() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)  # PID 1: default-action signals are dropped
    set_dumpable(False)
    os.environ["PYTHONDONTWRITEBYTECODE"] = "1"
    sys.dont_write_bytecode = True
    wipe_writable()
    Server().serve_forever()


if __name__ == "__main__":
    main()
