"""PID 1 of a warm sandbox container: small, pristine, privileged only for the clean-up.

Three users share the container, and only this process can cross between them:

- **PID 1** (this module, root with only the capabilities of :mod:`boundary` plus setuid) never
  imports pytest, never sees a test and never runs candidate code. It forks everything else,
  and after every job and every timing round it kills, wipes and checks (:mod:`boundary`).
- **The harness** (uid HARNESS_UID, no capabilities) is forked once, loads pytest and speaks to
  the host on stdin and stdout; its files live in /run/harness, which candidates cannot enter.
- **The zygotes** (root, like PID 1, non-dumpable) are forked before anything else and never
  handle a request: they only fork. Every candidate process is forked from one (twice, so that
  PID 1 becomes the candidate's parent and reaps it), so a candidate's memory holds nothing of
  any job, test, source or tenant, and nothing that tells a timed round from a tested one.
  Candidates come from the plain zygote; the hypothesis zygote serves only the host's own
  drawing program (``CallJob.hypothesis``): it imports hypothesis from the image's read-only
  paths on its first fork, so each drawing skips the import, most of its cost.
- **Candidates** (uid CANDIDATE_UID, no capabilities) get their source from the harness, over
  their own socket: PID 1 never sees it. They cannot signal, read or trace the harness or the
  zygote, nor keep anything from the clean-up.

The kernel drops signals from inside the container that PID 1 has no handler for, so nothing
can kill this process. When the harness dies or a job overruns its wall-clock limit, it reports
to the host (naming the candidate that was running) and exits; the host replaces the container.
"""

from __future__ import annotations

import ctypes
import importlib
import json
import os
import select
import signal
import socket
import sys
import time
from typing import NamedTuple

from . import boundary, candidate, framing

HARNESS_UID = 10001
CANDIDATE_UID = 10002
CANDIDATE_OOM_SCORE = 1000  # under memory pressure the kernel kills candidates first
_MAX_FD = 1024
_DRAWING_IMPORTS = ("hypothesis", "hypothesis.strategies", "hypothesis.errors")
_PR_SET_DUMPABLE, _PR_CAPBSET_DROP = 4, 24
_libc = ctypes.CDLL(None, use_errno=True)


def set_dumpable(flag: bool) -> None:
    """A non-dumpable process's /proc entries and memory are closed to other processes."""
    _libc.prctl(_PR_SET_DUMPABLE, int(flag), 0, 0, 0)


def become(uid: int) -> None:
    """Drop to ``uid`` for good: no capability left, none to regain (bounding set emptied,
    no supplementary groups). Raises if the drop did not happen."""
    for cap in range(64):
        if _libc.prctl(_PR_CAPBSET_DROP, cap, 0, 0, 0) != 0:
            break  # past the last capability this kernel knows
    os.setgroups([])
    os.setresgid(uid, uid, uid)
    os.setresuid(uid, uid, uid)
    if os.getuid() != uid or os.geteuid() != uid or _effective_capabilities() != 0:
        raise PermissionError(f"could not drop to uid {uid}")


def _effective_capabilities() -> int:
    with open("/proc/self/status") as handle:
        for line in handle:
            if line.startswith("CapEff:"):
                return int(line.split()[1], 16)
    return -1


class Seed(NamedTuple):
    pid: int
    fds: list[int]  # the harness's ends: call socket, stdout, stderr


class Zygote:
    """The process candidates are forked from. Forked from PID 1 at start, before the harness
    exists, it reads one byte per candidate and forks a child that forks the candidate and
    exits, so that the candidate is PID 1's child (PID 1 reaps it and reads its usage); then it
    sends PID 1 the candidate's pid and the harness's ends of its descriptors. Nothing it
    handles ever differs from one candidate to the next. With ``preload``, it imports those
    modules before its first fork (from ``trusted_path`` only)."""

    def __init__(
        self, trusted_path: list[str], preload: tuple[str, ...] = (), inherited: tuple = ()
    ) -> None:
        self.control, zygote_end = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        self.pid = os.fork()
        if self.pid == 0:
            try:
                for end in (self.control, *inherited):  # another zygote's: not ours to hold
                    end.close()
                _zygote_loop(zygote_end, trusted_path, preload)
            finally:
                os._exit(0)
        zygote_end.close()

    def fork(self) -> Seed:
        self.control.send(b"f")
        message, fds, _, _ = socket.recv_fds(self.control, 64, 3)
        if not message.isdigit() or len(fds) != 3:
            for fd in fds:
                os.close(fd)
            raise OSError("the zygote did not fork a candidate")
        return Seed(int(message), fds)


def _zygote_loop(control: socket.socket, trusted_path: list[str], preload: tuple[str, ...]) -> None:
    devnull = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):  # the host's channel is PID 1's alone
        os.dup2(devnull, fd)
    os.close(devnull)
    while control.recv(1) == b"f":
        if preload:
            _import(preload, trusted_path)
            preload = ()
        call_parent, call_child = (end.detach() for end in socket.socketpair())
        out_r, out_w = os.pipe()
        err_r, err_w = os.pipe()
        pid_r, pid_w = os.pipe()
        middle = os.fork()
        if middle == 0:
            try:
                pid = os.fork()
                if pid == 0:
                    _become_candidate([call_child, out_w, err_w], trusted_path)
                os.write(pid_w, str(pid).encode())
            finally:
                os._exit(0)
        os.waitpid(middle, 0)  # the candidate is PID 1's child from here on
        said = os.read(pid_r, 32)
        for fd in (call_child, out_w, err_w, pid_r, pid_w):
            os.close(fd)
        socket.send_fds(control, [said], [call_parent, out_r, err_r])
        for fd in (call_parent, out_r, err_r):
            os.close(fd)


def _import(modules: tuple[str, ...], trusted_path: list[str]) -> None:
    """Import ``modules`` in the zygote, from the image's read-only paths alone and outside the
    candidates' writable /tmp, so that nothing a candidate left can be imported here. A module
    that fails to import is left for the candidate to import (and to fail on) itself."""
    os.chdir("/")
    sys.path[:] = trusted_path
    before = set(sys.modules)
    try:
        for name in modules:
            importlib.import_module(name)
    except Exception:  # none of it half-imported: the candidate starts from a clean slate
        for name in set(sys.modules) - before:
            del sys.modules[name]


def _become_candidate(fds: list[int], trusted_path: list[str]) -> None:
    """In the new process: keep only its own descriptors, drop to the candidate user for
    good, then wait for its job (:func:`candidate.run`). Never returns."""
    try:
        call_fd, out_w, err_w = fds
        _close_all_but(set(fds))
        _raise_oom_score()
        become(CANDIDATE_UID)
        os.setsid()
        os.dup2(out_w, 1)
        os.dup2(err_w, 2)
        os.dup2(call_fd, candidate.CALL_FD)
        os.closerange(candidate.CALL_FD + 1, _MAX_FD)
        candidate.run(trusted_path)
    finally:
        os._exit(70)


class Server:
    def __init__(self) -> None:
        self.trusted_path = [p for p in sys.path if p and not p.startswith("/tmp")]
        self.zygote: Zygote | None = None  # the candidates'
        self.hypothesis_zygote: Zygote | None = None  # the drawing program's
        self.seed: Seed | None = None
        self.harness_pid = 0
        self.control: socket.socket | None = None
        self.host_out = -1
        self.deadline: float | None = None
        self.shmem_baseline = 0
        self.orphans_kb = 0  # peak RSS of the live candidate's children reaped so far
        self.seed_wanted = False  # a clean-up is done: fork the next candidate's process

    @property
    def spare(self) -> set[int]:
        """The processes a clean-up keeps: the harness and the zygotes still alive (a dead
        one's pid may be a candidate's by now)."""
        return {self.harness_pid, *(z.pid for z in self.zygotes if _alive(z.pid))}

    @property
    def zygotes(self) -> list[Zygote]:
        return [z for z in (self.zygote, self.hypothesis_zygote) if z is not None]

    # -- the harness ----------------------------------------------------------------------
    def start_harness(self) -> None:
        """Fork the harness, which keeps the host's stdin and stdout; keep only a spare copy of
        stdout, to report the harness's death."""
        assert self.zygote is not None  # serve_forever starts it first
        control, control_child = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        pid = os.fork()
        if pid == 0:
            try:
                control.close()
                for zygote in self.zygotes:
                    zygote.control.close()
                become(HARNESS_UID)
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
    def spawn_candidate(self, hypothesis: bool = False) -> tuple[int, list[int]]:
        """A candidate process waiting for its job: the seed forked after the last clean-up
        if it is still alive, else a new one; with ``hypothesis``, one forked now from the
        hypothesis zygote."""
        if hypothesis and self.hypothesis_zygote is not None:
            return self.hypothesis_zygote.fork()
        seed, self.seed = self.seed, None
        if seed is not None and not _alive(seed.pid):
            for fd in seed.fds:
                os.close(fd)
            seed = None
        assert self.zygote is not None  # serve_forever starts it first
        seed = seed or self.zygote.fork()
        return seed.pid, seed.fds

    def finish(self, pid: int, grace_s: float) -> dict:
        """Give a candidate `grace_s` to end by itself, then kill it and everything it started;
        return its resource usage (from wait4, so it is reaped here and nowhere else)."""
        end = time.monotonic() + grace_s
        killed = False
        reaped = None
        while time.monotonic() < end + boundary.KILL_WAIT_S:
            try:
                done, status, usage = os.wait4(pid, os.WNOHANG)
            except ChildProcessError:
                break
            if done:
                reaped = (status, usage)
                break
            if not killed and time.monotonic() >= end:
                boundary.signal_all_but(self.spare)
                killed = True
            time.sleep(0.0002)
        orphans = [self.orphans_kb]
        boundary.kill_all_but(self.spare, reaped_kb=orphans)  # what it forked or left behind
        self.orphans_kb = 0
        if reaped is None:
            return {"status": None, "killed": killed, "maxrss_kb": orphans[0], "cpu": 0.0}
        status, usage = reaped
        return {
            "status": status,
            "killed": killed,
            # its own peak and its children's, each counted (an upper bound of their peak
            # together): memory hidden in a child it never waits for is still its memory
            "maxrss_kb": usage.ru_maxrss + orphans[0],
            "cpu": usage.ru_utime + usage.ru_stime,
        }

    def reset(self) -> dict:
        """Back to the pristine state, checked. The next candidate's process is forked once
        the answer is sent (:meth:`answer`), off the job's critical path."""
        if self.seed is not None:
            for fd in self.seed.fds:
                os.close(fd)
            self.seed = None
        left = boundary.restore(self.spare, self.shmem_baseline)
        self.seed_wanted = not left
        return {"clean": not left, "leftovers": left}

    # -- the loop -------------------------------------------------------------------------
    def answer(self, message: dict) -> None:
        assert self.control is not None and self.zygote is not None  # serve_forever set both
        op = message["op"]
        if op == "spawn":
            pid, fds = self.spawn_candidate(bool(message.get("hypothesis")))
            socket.send_fds(self.control, [json.dumps({"pid": pid}).encode()], fds)
            for fd in fds:
                os.close(fd)
            return
        if op == "finish":
            reply = self.finish(message["pid"], message.get("grace", 0.0))
            if message.get("reset"):
                reply |= self.reset()
        elif op == "reset":
            reply = self.reset()
        elif op == "baseline":  # the harness is ready: this is what pristine looks like
            self.shmem_baseline = boundary.shared_memory_bytes()
            return
        elif op == "begin":
            self.deadline = time.monotonic() + float(message["wall_seconds"])
            return
        elif op == "end":  # the harness has finished the job: clean up before it answers
            self.deadline = None
            reply = self.reset()
        else:
            reply = {"error": f"unknown op {op!r}"}
        self.control.send(json.dumps(reply).encode())
        if self.seed_wanted:
            self.seed_wanted = False
            self.seed = self.zygote.fork()

    def serve_forever(self) -> None:
        self.zygote = Zygote(self.trusted_path)  # first: it must never hold anything but this
        self.hypothesis_zygote = Zygote(
            self.trusted_path, preload=_DRAWING_IMPORTS, inherited=(self.zygote.control,)
        )
        self.start_harness()
        assert self.control is not None  # start_harness set it
        self.seed = self.zygote.fork()
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
                return self.give_up("crashed", "the test harness died")
            try:
                self.answer(json.loads(message))
            except Exception as error:  # never die of a bad message: the host recycles us
                return self.give_up("crashed", f"sandbox server error: {error}", internal=True)
            self.orphans_kb += boundary.reap_orphans()

    def give_up(self, verdict: str, message: str, internal: bool = False) -> None:
        """Report a job the harness cannot finish, then exit so the host replaces the container
        (the host knows which candidate was running from the harness's progress frames).
        ``internal``: this process failed (a zygote that no longer forks), the sandbox's fault:
        the host runs the job again elsewhere and blames no candidate."""
        boundary.kill_all_but(set())
        said = {"internal_error": message} if internal else {"verdict": verdict, "message": message}
        framing.write_frame(self.host_out, said | {"clean": False})


def _close_all_but(keep: set[int]) -> None:
    """Close every inherited descriptor (the host's channel, the harness's control socket) but
    ``keep`` and the standard three, before the process becomes a candidate."""
    low = 3
    for fd in sorted(keep):
        os.closerange(low, fd)
        low = fd + 1
    os.closerange(low, _MAX_FD)


def _raise_oom_score() -> None:
    try:
        with open("/proc/self/oom_score_adj", "w") as handle:
            handle.write(str(CANDIDATE_OOM_SCORE))
    except OSError:
        pass


def _alive(pid: int) -> bool:
    try:
        return os.waitpid(pid, os.WNOHANG)[0] == 0
    except ChildProcessError:
        return False


def main() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)  # PID 1: default-action signals are dropped
    set_dumpable(False)
    if os.geteuid() != 0:
        error = "the sandbox server must start as root, with sandbox.container.hardened_config"
        framing.write_frame(1, {"ready": False, "error": error})
        return
    os.environ["PYTHONDONTWRITEBYTECODE"] = "1"
    sys.dont_write_bytecode = True
    boundary.restore(set(), 0)
    Server().serve_forever()


if __name__ == "__main__":
    main()
