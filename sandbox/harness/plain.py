"""PID 1 of a strict reference container: plain ``pytest`` on the candidate, nothing warm.

The strict backend (:mod:`sandbox.strict`) starts one such container per candidate. It reads one
job from the host, writes the candidate as ``solution.py`` beside the tests, and runs the
``pytest`` command line in a fresh interpreter under the candidate's user and limits: the
candidate and the tests in one process, as a user's own ``pytest`` would run them. The only
additions are the ones every sandbox run makes, so that both paths see the same data: the run's
seed for ``random`` and the harness's hypothesis profile (:mod:`plain_plugin`), and
``--benchmark-disable`` (the benchmark runs once; timing is the other path's job).

Being in one process with the tests, the candidate could forge this verdict; the strict backend
therefore only lets it *fail* a candidate that the isolated run passed. It reports the pytest
exit code, its JUnit XML and its output, bounded.

A job with ``repository_tests`` runs a project's own tests instead, as ``pytest`` at the
project's root would (mounted read-only at /project, its ``conftest.py`` files and its pytest
configuration but for ``addopts``), with the candidate as the project's module (its file
replaced for the run by :mod:`plain_plugin`). Every backend runs these beside the isolated run,
with the same rule: they can only take a pass away.
"""

from __future__ import annotations

import json
import os
import resource
import signal
import subprocess
import sys
import time

from . import boundary, framing
from .server import CANDIDATE_UID, become

JOB = "/tmp/job"
REPORT = JOB + "/report.xml"
CANDIDATE = JOB + "/candidate.py"  # a project's module, as the candidate writes it
PROJECT_DIR = "/project"
OUTPUT = "/tmp/output"
KEEP = 64 * 1024  # bytes of output, and of the report, sent back


def main() -> None:
    framing.write_frame(1, {"ready": True, "python": sys.version.split()[0]})
    job = framing.read_frame(0)
    if job is None:
        return
    project = bool(job.get("repository_tests"))
    os.makedirs(JOB + "/tests", exist_ok=True)
    for name, text in ({} if project else job["test_files"]).items():
        with open(os.path.join(JOB, "tests", name), "w") as handle:
            handle.write(text)
    where = CANDIDATE if job.get("module") else os.path.join(JOB, "tests", "solution.py")
    with open(where, "w") as handle:
        handle.write(job["candidate"])
    os.chmod(JOB, 0o777)
    framing.write_frame(1, run(job, project))


def run(job: dict, project: bool = False) -> dict:
    limits = job["limits"]
    common = [
        sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
        "-p", "pytest_benchmark.plugin", "--benchmark-disable",
        "-p", "codegen_harness.plain_plugin", f"--junitxml={REPORT}",
    ]  # fmt: skip
    environment = dict(os.environ, CODEGEN_SEED=str(job.get("seed", "")), HOME="/tmp")
    module = job.get("module")
    if module:  # the candidate is the project's module (and `solution` imports it)
        environment |= {
            "PYTHONPATH": module["import_path"],
            "CODEGEN_MODULE": json.dumps(module),
            "CODEGEN_MODULE_SOURCE": CANDIDATE,
        }
    if project:  # the project's own tests, at its root
        command = [*common, "--rootdir", PROJECT_DIR, "-o", "addopts=", "--",
                   *job["repository_tests"]]  # fmt: skip
        cwd = PROJECT_DIR
    else:
        command = [*common, "--rootdir", JOB, "-o", "python_files=test_*.py", JOB + "/tests"]
        cwd = JOB
    started = time.monotonic()
    with open(OUTPUT, "wb") as sink:  # capped by RLIMIT_FSIZE, as a candidate's output is
        process = subprocess.Popen(
            command, cwd=cwd, env=environment, stdin=subprocess.DEVNULL, stdout=sink,
            stderr=subprocess.STDOUT, preexec_fn=lambda: _candidate(limits),
        )  # fmt: skip
    try:
        process.wait(timeout=limits["wall_seconds"])
        timed_out = False
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
        timed_out = True
    boundary.kill_all_but(set())
    with open(OUTPUT, "rb") as handle:
        handle.seek(max(0, os.path.getsize(OUTPUT) - KEEP))
        output = handle.read()
    try:
        with open(REPORT, "rb") as handle:
            report = handle.read(KEEP + 1)
    except OSError:
        report = b""
    code = process.returncode
    return {
        "exit_code": code,
        "signal": -code if code is not None and code < 0 else 0,
        "timed_out": timed_out,
        "report": report[:KEEP].decode("utf-8", "replace") if len(report) <= KEEP else "",
        "output": output[-KEEP:].decode("utf-8", "replace"),
        "wall_seconds": time.monotonic() - started,
    }


def _candidate(limits: dict) -> None:
    """In the pytest process, before it starts: the candidate's user and limits."""
    os.setsid()
    with open("/proc/self/oom_score_adj", "w") as handle:
        handle.write("1000")
    become(CANDIDATE_UID)
    memory = limits["candidate_memory_mb"] << 20
    resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    resource.setrlimit(resource.RLIMIT_CPU, (limits["cpu_seconds"], limits["cpu_seconds"] + 1))
    resource.setrlimit(resource.RLIMIT_FSIZE, (limits["output_bytes"], limits["output_bytes"]))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)


if __name__ == "__main__":
    main()
