"""No container outlives its owner: not after Ctrl-C, not after SIGKILL."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time

import docker
import pytest

from sandbox.engine import LABEL, connect
from sandbox.prune import prune

pytestmark = pytest.mark.docker

HOLDER = """
import asyncio, sys
from sandbox import Sandbox

async def main():
    async with Sandbox(workers=2):
        print("ready", flush=True)
        await asyncio.sleep(600)

asyncio.run(main())
"""


def _owned_by(client: docker.DockerClient, pid: int) -> list:
    """Summaries, not inspected containers: those that remove themselves would race."""
    return [
        c
        for c in client.api.containers(all=True, filters={"label": LABEL})
        if f":{pid}:" in (c.get("Labels") or {}).get("codegen.owner", "")
    ]


def _start_holder() -> subprocess.Popen:
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER],
        stdout=subprocess.PIPE,
        text=True,
        cwd=os.path.dirname(os.path.dirname(os.path.dirname(__file__))),
    )
    assert holder.stdout.readline().strip() == "ready"
    return holder


def _wait_gone(client: docker.DockerClient, pid: int, seconds: float = 20) -> list:
    end = time.monotonic() + seconds
    while (left := _owned_by(client, pid)) and time.monotonic() < end:
        time.sleep(0.2)
    return left


@pytest.mark.parametrize("how", [signal.SIGINT, signal.SIGKILL])
def test_containers_go_away_with_their_owner(how: signal.Signals) -> None:
    client = connect()
    holder = _start_holder()
    assert len(_owned_by(client, holder.pid)) == 2
    holder.send_signal(how)
    holder.wait(30)
    assert _wait_gone(client, holder.pid) == []


def test_prune_removes_what_a_dead_owner_left() -> None:
    client = connect()
    image = client.images.list(name="codegen-sandbox")[0].tags[0]
    leftover = client.containers.create(
        image,
        command=["sleep", "60"],
        labels={LABEL: "1", "codegen.owner": f"{socket.gethostname()}:999999999:0"},
    )
    assert prune(client) >= 1
    with pytest.raises(docker.errors.NotFound):
        client.containers.get(leftover.id)


def test_a_container_lost_under_a_job_is_the_sandbox_s_fault_not_the_candidate_s(
    sandbox_driver,
) -> None:
    """Both containers die under the job: it is retried once on another container (dead
    too here), then reported as the sandbox's fault, a value callers read (bench retries it
    on its next run and never counts it against a model). The pool replaces what it lost."""
    import threading

    from sandbox import Verdict

    sandbox = sandbox_driver.sandbox
    before = {c.id for c in sandbox.all}
    killer = threading.Timer(
        1.0, lambda: [connect().api.kill(cid) for cid in before if cid is not None]
    )
    killer.start()
    try:
        result = sandbox_driver.run(
            "import time\ndef solve(n):\n    time.sleep(2)\n    return n\n",
            "from solution import solve\n\ndef test_one():\n    assert solve(1) == 1\n",
        )
    finally:
        killer.join()
    assert result.verdict is Verdict.CRASHED and result.sandbox_fault, result
    honest = sandbox_driver.run(
        "def solve(n):\n    return n\n",
        "from solution import solve\n\ndef test_one():\n    assert solve(1) == 1\n",
    )
    assert honest.passed and not honest.sandbox_fault  # the pool replaced what it lost


# Run as root in a warm container (what no candidate can do): kill the newest root process but
# PID 1, the drawings' zygote (forked after the candidates').
_KILL_THE_DRAWINGS_ZYGOTE = (
    "import os\n"
    "me = os.getpid()\n"
    "def uid(p):\n"
    "    status = open(f'/proc/{p}/status').read().split('Uid:')[1]\n"
    "    return int(status.split()[0])\n"
    "roots = sorted(int(p) for p in os.listdir('/proc')\n"
    "               if p.isdigit() and int(p) not in (1, me) and uid(p) == 0)\n"
    "os.kill(roots[-1], 9)\n"
)


def test_a_dead_zygote_is_the_sandbox_s_fault_and_the_job_runs_elsewhere(lone_driver) -> None:
    """A zygote that no longer forks is PID 1's failure, not the job's: the drawing (of a
    problem with a strategies.py, where a failed drawing is the problem's error) runs again
    on another container, and the broken one leaves the pool."""
    from codegen.problems import load_problem
    from codegen.ranking.inputs import draw

    problem = load_problem(os.path.join(os.path.dirname(__file__), "../../examples/two_sum"))
    sandbox = lone_driver.sandbox
    first = lone_driver.wait(draw(problem, sandbox, n=5))
    assert first.args and first.origin == "strategies.py", first
    before = {c.id for c in sandbox.all}
    for container_id in before:
        subprocess.run(["docker", "exec", str(container_id), "python3", "-c",
                        _KILL_THE_DRAWINGS_ZYGOTE], check=True)  # fmt: skip
    assert lone_driver.wait(draw(problem, sandbox, n=5)) == first  # the same seed, elsewhere
    assert before - {c.id for c in sandbox.all}, "a broken container stayed in the pool"
