"""Ctrl-C: a real `codegen solve` subprocess, mid-run against the fake model server and the real
Docker sandbox, gets SIGINT; it must exit with 130 within 2 s (the figure the task sets), say
so in one line, and leave no container behind."""

from __future__ import annotations

import signal
import socket
import subprocess
import time
from pathlib import Path

import pytest

from tests.cli_support import CODEGEN, ROOT, FakeServerProcess, cli_env, fenced

pytestmark = pytest.mark.docker

LOOPING = "def two_sum(nums, target):\n    while True:\n        pass\n"
DEADLINE_S = 2.0


def _containers_of(pid: int) -> list[str]:
    """The sandbox containers owned by process `pid` of this host (running or not)."""
    done = subprocess.run(
        ["docker", "ps", "-a", "--filter", "label=codegen.sandbox", "--format",
         '{{.ID}} {{.Label "codegen.owner"}}'],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    prefix = f"{socket.gethostname()}:{pid}:"
    return [line.split()[0] for line in done.stdout.splitlines() if prefix in line]


def _wait_until(condition, timeout: float = 120.0) -> None:  # noqa: ANN001
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "the run never reached the state to interrupt"
        time.sleep(0.2)


@pytest.mark.parametrize(
    ("phase", "reply"),
    [
        ("while the models generate", {"hang": True}),
        ("while a candidate runs in the sandbox", fenced(LOOPING)),
    ],
)
def test_ctrl_c_exits_130_within_two_seconds_and_leaves_no_container(
    tmp_path: Path, phase: str, reply: dict
) -> None:
    script = {"models": {"slow": [reply]}}
    # the looping candidate must still be running when the signal comes, however slowly this
    # machine got there: its test may run for minutes
    (tmp_path / "codegen.toml").write_text("[limits]\ntest_seconds = 240\nwall_seconds = 300\n")
    with FakeServerProcess(script, tmp_path) as server:
        process = subprocess.Popen(
            [*CODEGEN, "solve", str(ROOT / "examples" / "two_sum"), "--models", "openai/slow",
             "--no-tester", "--no-jury"],
            cwd=tmp_path,
            env=cli_env({"OPENAI_API_BASE": server.base_url}),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )  # fmt: skip
        try:
            # mid-run: the sandbox's containers are up and the model has been asked
            _wait_until(lambda: _containers_of(process.pid) and server.requests())
            if process.poll() is not None:
                pytest.fail(f"the run ended before the interrupt: {process.communicate()}")
            if "content" in reply:
                time.sleep(1.0)  # the candidate is in the sandbox by now (it loops for minutes)
            sent = time.monotonic()
            process.send_signal(signal.SIGINT)
            stdout, stderr = process.communicate(timeout=30)
            elapsed = time.monotonic() - sent
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()
    print(f"{phase}: exit 130 after {elapsed:.2f}s")  # shown with -s
    assert process.returncode == 130, (phase, stderr)
    assert elapsed < DEADLINE_S, f"{phase}: exit took {elapsed:.2f}s"
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert lines[-1] == "codegen: interrupted" and "Traceback" not in stderr, stderr
    assert _containers_of(process.pid) == [], f"{phase}: containers left behind"
    assert stdout == ""  # nothing half-written on stdout
