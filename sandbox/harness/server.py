"""PID 1 of a warm sandbox container: a pre-warmed, pristine interpreter that forks per job.

It reads job frames from the host on stdin and answers on stdout. For each job it forks a trusted
*harness* child (which runs pytest) and, on the harness's request, forks *candidate* processes from
its own pristine state, which holds no tests. Being PID 1 it cannot be killed from inside the
container, so after every job it kills every other process and wipes the writable mounts.
"""

from __future__ import annotations

import ctypes
import gc
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


def kill_all_others(deadline_s: float = 3.0) -> bool:
    """SIGKILL every process this one may signal, and reap what comes back to PID 1.

    Returns False when something survived (a fork bomb outrunning us), so the host recycles."""
    end = time.monotonic() + deadline_s
    while time.monotonic() < end:
        try:
            os.kill(-1, signal.SIGKILL)
        except ProcessLookupError:
            pass
        try:
            while os.waitpid(-1, os.WNOHANG)[0]:
                pass
        except ChildProcessError:
            return True
        time.sleep(0.0002)
    return False


class Seed(NamedTuple):
    pid: int
    fds: list[int]  # the harness's ends: call socket, stdout, stderr
    go_w: int


class Harness(NamedTuple):
    pid: int
    control: socket.socket
    result_r: int
    job_w: int


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


class Server:
    def __init__(self) -> None:
        self.host_in = os.dup(0)
        self.host_out = os.dup(1)
        devnull = os.open(os.devnull, os.O_RDWR)
        for fd in (0, 1):
            os.dup2(devnull, fd)
        os.close(devnull)
        self.trusted_path = [p for p in sys.path if p and not p.startswith("/tmp")]
        self.harness: Harness | None = None
        self.seed: Seed | None = None

    # -- candidates -----------------------------------------------------------------------
    def fork_seed(self) -> Seed:
        """Fork a candidate process that waits for its source. Done between jobs, so a job's
        first candidate costs no fork, and from this pristine process, which holds no tests."""
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
        signal.signal(signal.SIGALRM, signal.SIG_DFL)
        os.makedirs(WORK_DIR, exist_ok=True)
        limits = request["limits"]
        candidate.set_limits(
            limits["candidate_memory_mb"], limits["cpu_seconds"], limits["output_bytes"]
        )
        candidate.serve(request["source"], WORK_DIR, self.trusted_path)

    def spawn_candidate(self, request: dict) -> tuple[int, list[int]]:
        """Start a candidate: the waiting seed if there is one, else a fresh fork."""
        seed, self.seed = self.seed or self.fork_seed(), None
        framing.write_frame(seed.go_w, request)
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

    # -- jobs -----------------------------------------------------------------------------
    def fork_harness(self) -> Harness:
        """Fork the next job's harness ahead of time; it waits for the job on a pipe."""
        control, control_child = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        result_r, result_w = os.pipe()
        job_r, job_w = os.pipe()
        pid = os.fork()
        if pid == 0:
            try:
                for end in (result_r, job_w, self.host_in, self.host_out):
                    os.close(end)
                control.close()
                request = framing.read_frame(job_r)
                if request is not None:
                    from . import runner

                    framing.write_frame(result_w, runner.run(request, control_child))
            except BaseException as error:  # the harness reports its own failure, once
                framing.write_frame(
                    result_w, {"internal_error": f"{type(error).__name__}: {error}"}
                )
            finally:
                os._exit(0)
        control_child.close()
        os.close(result_w)
        os.close(job_r)
        return Harness(pid, control, result_r, job_w)

    def run_job(self, body: bytes) -> dict:
        deadline = time.monotonic() + float(framing.decode(body)["limits"]["wall_seconds"])
        harness, self.harness = self.harness or self.fork_harness(), None
        os.write(harness.job_w, framing.HEADER.pack(len(body)))
        _write_all(harness.job_w, body)
        os.close(harness.job_w)
        del body  # candidates forked from here on must not find the tests in memory
        try:
            return self._serve_harness(harness.control, harness.result_r, deadline)
        finally:
            harness.control.close()
            os.close(harness.result_r)

    def _serve_harness(self, control: socket.socket, result_r: int, deadline: float) -> dict:
        chunks: list[bytes] = []
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return {"verdict": "timeout", "message": "the job ran past its wall-clock limit"}
            readable, _, _ = select.select([control, result_r], [], [], remaining)
            if control in readable:
                try:
                    message = control.recv(1 << 22)
                except OSError:
                    message = b""
                if message:
                    self._answer(control, json.loads(message))
                    continue
            if result_r in readable:
                chunk = os.read(result_r, 1 << 20)
                if chunk:
                    chunks.append(chunk)
                    continue
                break
        data = b"".join(chunks)
        if len(data) < framing.HEADER.size:
            return {
                "internal_error": "the harness died before reporting (killed by the candidate?)"
            }
        return framing.decode(data[framing.HEADER.size :])

    def _answer(self, control: socket.socket, message: dict) -> None:
        if message["op"] == "spawn":
            pid, fds = self.spawn_candidate(message)
            socket.send_fds(control, [json.dumps({"pid": pid}).encode()], fds)
            for fd in fds:
                os.close(fd)
        elif message["op"] == "reap":
            control.send(json.dumps(self.reap(message["pid"], message.get("grace", 0.05))).encode())

    def serve_forever(self) -> None:
        self.harness, self.seed = self.fork_harness(), self.fork_seed()
        framing.write_frame(self.host_out, {"ready": True, "python": sys.version.split()[0]})
        while True:
            body = framing.read_frame_body(self.host_in)
            if body is None:
                return
            started = time.perf_counter()
            response = self.run_job(body)
            response["clean"] = kill_all_others()  # the unused seed goes too
            wipe_writable()
            response["server_seconds"] = time.perf_counter() - started
            framing.write_frame(self.host_out, response)
            self.harness, self.seed = self.fork_harness(), self.fork_seed()


def warm_up() -> None:
    """Import and exercise pytest once so that forked harnesses start with everything loaded."""
    from . import runner

    runner.warm_up()


def main() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)  # PID 1: default-action signals are dropped
    set_dumpable(False)
    os.environ["PYTHONDONTWRITEBYTECODE"] = "1"
    sys.dont_write_bytecode = True
    server = Server()
    warm_up()
    wipe_writable()
    gc.collect()
    gc.freeze()  # forked children then leave the server's objects (and their pages) alone
    server.serve_forever()


if __name__ == "__main__":
    main()
