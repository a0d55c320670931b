"""Red team: attacks by a candidate that has read the sandbox's code (issue #10), one test per
class of hole, each asserting what the honest candidates get, not just that nothing crashed.

1. state that outlives a job (IPC objects, files the wipe cannot reach);
2. work done at import, which the meter must charge;
3. answers that change when timed, or that cannot be digested;
4. a wipe that can be defeated with file modes or a full mount;
5. a tree deep enough to crash a recursive clean-up;
6. sabotage of the timing job (stalling, killing, exhausting memory);
7. telling a timed run from a tested one.

And a property: after any job, however it ended, the container is back to its pristine state,
as read from outside it.
"""

from __future__ import annotations

import statistics
import textwrap
import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sandbox import CallJob, Limits, RunJob, RunResult, TimingJob, TimingResult, Verdict

from . import red_team as rt
from .conftest import FAST_LIMITS, SandboxDriver

pytestmark = pytest.mark.docker


def _run(
    driver: SandboxDriver,
    candidate: str,
    files: dict[str, str] = rt.TOTAL_FILES,
    entry: str = "total",
    limits: Limits = FAST_LIMITS,
) -> RunResult:
    job = RunJob(entry_point=entry, test_files=files, candidate=candidate, limits=limits)
    return driver.wait(driver.sandbox.run(job))


def _time(
    driver: SandboxDriver,
    candidates: dict[str, str],
    rounds: int = 5,
    files: dict[str, str] = rt.TOTAL_FILES,
    entry: str = "total",
    **options,
) -> TimingResult:
    return driver.wait(
        driver.sandbox.time(
            TimingJob(
                test_files=files, entry_point=entry, candidates=candidates, rounds=rounds, **options
            )
        ),
        timeout=300,
    )


def _medians(timing: TimingResult) -> dict[str, float]:
    return {cid: statistics.median(stats[0].samples) for cid, stats in timing.timings.items()}


# -- 1. state that outlives a job -------------------------------------------------------------
@pytest.mark.parametrize("channel", [c for c in rt.CHANNELS if c != "SysV semaphore"])
def test_a_memo_kept_outside_the_process_does_not_survive_a_timing_round(
    sandbox_driver, channel: str
) -> None:
    timing = _time(sandbox_driver, {"linear": rt.LINEAR, "memo": rt.memoising_total(channel)})
    assert timing.errors == {}, timing.errors
    medians = _medians(timing)
    assert medians["memo"] > 0.5 * medians["linear"], medians


@pytest.mark.parametrize("channel", list(rt.CHANNELS))
def test_what_one_job_keeps_never_reaches_the_next(lone_driver, channel: str) -> None:
    keeper = rt.channel_program(
        channel, "def total(n):\n    keep('secret-42')\n    return n * (n - 1) // 2\n"
    )
    finder = rt.channel_program(channel, "def total(n):\n    return find()\n")
    assert _run(lone_driver, keeper).passed
    (outcome,) = lone_driver.wait(
        lone_driver.sandbox.call(
            CallJob(candidate=finder, entry_point="total", inputs=[((1,), {})])
        )
    )
    assert outcome.ok and outcome.value is None, outcome


def test_shared_memory_left_behind_cannot_starve_the_next_candidate(lone_driver) -> None:
    _run(lone_driver, rt.SHM_HOG)
    result = _run(lone_driver, rt.NEEDS_MEMORY)
    assert result.verdict is Verdict.PASSED, result.message


# -- 2. the meter charges everything ------------------------------------------------------------
def test_work_done_at_import_is_charged(sandbox_driver) -> None:
    timing = _time(
        sandbox_driver, {"linear": rt.LINEAR, "table": rt.TABLE_AT_IMPORT, "formula": rt.FORMULA}
    )
    medians = _medians(timing)
    # The table costs several times one honest call to build: it must not look faster.
    assert medians["table"] > medians["linear"], medians
    assert medians["formula"] < 0.5 * medians["linear"], medians


# -- 3. answers are checked, never skipped -----------------------------------------------------
def test_a_value_too_deep_to_digest_is_refused_not_waved_through(sandbox_driver) -> None:
    tested = _run(sandbox_driver, rt.LINEAR)
    assert tested.passed
    timing = _time(
        sandbox_driver,
        {"honest": rt.LINEAR, "deep": rt.DEEP_VALUE},
        tested={"honest": tested, "deep": tested},  # as if it had answered honestly in tests
    )
    assert "honest" in timing.timings and "honest" not in timing.errors
    assert "deep" not in timing.timings and "deep" in timing.errors


def test_a_shared_reference_bomb_is_refused_at_once(sandbox_driver) -> None:
    started = time.monotonic()
    inputs = [((5,), {}), ((6,), {}), ((7,), {})]
    outcomes = sandbox_driver.wait(
        sandbox_driver.sandbox.call(
            CallJob(candidate=rt.SHARED_REFERENCE_BOMB, entry_point="total", inputs=inputs)
        )
    )
    assert time.monotonic() - started < 10  # before: the host deadline, 25 s
    assert [o.ok for o in outcomes] == [False, False, False]  # every answer is forged
    assert "too large" in outcomes[0].message


def test_timed_answers_must_be_the_screened_ones(sandbox_driver) -> None:
    inputs = [((300_000,), {}), ((200_000,), {})]
    screened = sandbox_driver.wait(
        sandbox_driver.sandbox.call(
            CallJob(candidate=rt.LINEAR, entry_point="total", inputs=inputs)
        )
    )
    off_by_one = rt.LINEAR.replace("return s", "return s + 1")
    timing = _time(
        sandbox_driver,
        {"honest": rt.LINEAR, "sly": off_by_one},
        files={},
        inputs=inputs,
        screened={"honest": screened, "sly": screened},  # as if it had answered so when screened
    )
    assert "honest" in timing.timings
    assert "sly" not in timing.timings
    assert "different value" in timing.errors["sly"].message


# -- 4. the wipe cannot be defeated -------------------------------------------------------------
@pytest.mark.parametrize("vandal", ["LOCKS_ITS_WORK_DIR", "FILLS_AND_LOCKS_TMP", "DEEP_TREE"])
def test_later_candidates_do_not_pay_for_a_vandal(lone_driver, vandal: str) -> None:
    _run(lone_driver, getattr(rt, vandal))
    for honest in (rt.WRITES_A_TEMP_FILE, rt.LINEAR):
        result = _run(lone_driver, honest)
        assert result.verdict is Verdict.PASSED, result.message


def test_no_job_can_leave_a_trap_for_the_next_jobs_tests(lone_driver) -> None:
    """Paths where a harness might write the tests, planted in advance, and a candidate that
    knows nothing but reads every file it can reach: the secret stays in the test."""
    assert _run(lone_driver, PLANTS_TRAPS).passed
    result = _run(lone_driver, SEARCHES_FOR_TESTS, SECRET_TESTS, entry="answer")
    assert result.verdict is Verdict.FAILED, result.message


PLANTS_TRAPS = textwrap.dedent("""
    import os
    def total(n):
        os.makedirs("/tmp/loot", exist_ok=True)
        os.chmod("/tmp/loot", 0o777)
        for base in ("/tmp/.harness-job", "/run/harness/job", "/tmp/pytest-of-harness"):
            try:
                os.makedirs(base, exist_ok=True)
                for leaf in ("tests", "warm"):
                    os.symlink("/tmp/loot", os.path.join(base, leaf))
                os.chmod(base, 0o555)
            except OSError:
                pass
        return n * (n - 1) // 2
""")
SEARCHES_FOR_TESTS = textwrap.dedent("""
    import os, re
    def answer(n):
        for root in ("/tmp", "/dev/shm", "/run", "/proc/1/cwd", "/opt"):
            for folder, _, files in os.walk(root):
                for name in files:
                    try:
                        text = open(os.path.join(folder, name), errors="ignore").read()
                    except OSError:
                        continue
                    found = re.findall(r"answer\\(" + str(n) + r"\\) == (\\d+)", text)
                    if found:
                        return int(found[0])
        return -1
""")
SECRET_TESTS = {
    "test_secret.py": "from solution import answer\n\ndef test_secret():\n"
    "    assert answer(3) == 987654321\n"
}


# -- 5. PID 1 cannot be crashed -----------------------------------------------------------------
def test_a_deep_tree_during_timing_costs_only_its_maker(sandbox_driver) -> None:
    timing = _time(sandbox_driver, {"linear": rt.LINEAR, "deep": rt.DEEP_TREE, "f": rt.FORMULA})
    assert {"linear", "f"} <= set(timing.timings), timing
    assert not timing.truncated and timing.notes == []


# -- 6. the timing job cannot be sabotaged ------------------------------------------------------
def test_a_candidate_that_stalls_when_timed_is_disqualified_and_the_rest_are_timed(
    sandbox_driver,
) -> None:
    sleepy = rt.SLEEPS_WHEN_CALLED.replace("2.5", "1.2")
    tested = {cid: _run(sandbox_driver, src) for cid, src in (("linear", rt.LINEAR),
              ("sleepy", sleepy), ("formula", rt.FORMULA))}  # fmt: skip
    assert all(run.passed for run in tested.values())
    candidates = {"linear": rt.LINEAR, "sleepy": sleepy, "formula": rt.FORMULA}
    timing = _time(sandbox_driver, candidates, rounds=20, tested=tested)
    assert set(timing.timings) == {"linear", "formula"}
    assert all(len(stats[0].samples) == 20 for stats in timing.timings.values())
    assert timing.errors["sleepy"].verdict is Verdict.TIMEOUT, timing.errors


@pytest.mark.parametrize("saboteur", ["KILLS_EVERYTHING", "MEMORY_IN_MANY_PROCESSES"])
def test_a_saboteur_costs_the_others_nothing(sandbox_driver, saboteur: str) -> None:
    source = getattr(rt, saboteur)
    honest = _run(sandbox_driver, rt.LINEAR)
    candidates = {"linear": rt.LINEAR, "saboteur": source, "formula": rt.FORMULA}
    tested = {"linear": honest, "saboteur": honest, "formula": _run(sandbox_driver, rt.FORMULA)}
    timing = _time(sandbox_driver, candidates, rounds=3, tested=tested)
    assert {"linear", "formula"} <= set(timing.timings), timing
    assert not timing.truncated
    medians = _medians(timing)
    assert medians["formula"] < medians["linear"]


# -- 7. a timed round looks like a tested one ---------------------------------------------------
@pytest.mark.parametrize("driver_name", ["sandbox_driver", "lone_driver"])
def test_a_timed_round_looks_exactly_like_a_tested_one(request, driver_name: str) -> None:
    """Everything a candidate can observe of itself and its container (affinity, cgroup
    limits, environment, rlimits, users, fds, processes, call count, signals...) is one of the
    things it observes when tested, on some test worker."""
    driver = request.getfixturevalue(driver_name)
    seen = set()
    for _ in range(2 * driver.sandbox.workers):  # jobs take the workers in turn
        run = _run(driver, rt.OBSERVER, rt.OBSERVER_TESTS, entry="observe")
        assert run.passed, run.message
        seen.add(run.benchmarks[0].digest)
    timing = _time(driver, {"observer": rt.OBSERVER}, 3, rt.OBSERVER_TESTS, "observe")
    assert timing.timings["observer"][0].digest in seen


# -- the property: after any job, the container is pristine ----------------------------------
ACTIONS = {
    "locked files": """
        os.makedirs("/tmp/a/b", exist_ok=True); open("/tmp/a/b/f", "w").write("x")
        os.chmod("/tmp/a/b", 0); os.chmod("/tmp/a", 0o100)""",
    "deep tree": """
        os.makedirs("/tmp/deep", exist_ok=True); os.chdir("/tmp/deep")
        for _ in range(400):
            os.mkdir("d"); os.chdir("d")
        os.chdir("/tmp/work")""",
    "special files": """
        os.mkfifo("/tmp/fifo"); os.symlink("/tmp/loop", "/tmp/loop")
        socket.socket(socket.AF_UNIX).bind("/tmp/sock"); os.symlink("/", "/dev/shm/root")""",
    "SysV objects": """
        ident = libc.shmget(0x51, 1 << 20, 0o1666); address = libc.shmat(ident, None, 0)
        libc.msgget(0x52, 0o1666); libc.semget(0x53, 4, 0o1666)""",
    "POSIX queue and memory": """
        libc.mq_open(b"/q", os.O_CREAT | os.O_RDWR, 0o666, None)
        open("/dev/shm/block", "wb").write(b"x" * (4 << 20))""",
    "daemon": """
        if os.fork() == 0:
            os.setsid()
            if os.fork() == 0:
                signal.signal(signal.SIGTERM, signal.SIG_IGN)
                while True:
                    time.sleep(0.01)
            os._exit(0)""",
    "busy child": """
        if os.fork() == 0:
            while True:
                pass""",
    "full tmp": """
        with open("/tmp/full", "wb") as handle:
            try:
                while True:
                    handle.write(b"x" * (1 << 20))
            except OSError:
                pass""",
    "locked work dir": """
        os.chmod("/tmp/work", 0)""",
}
ENDINGS = {
    "returns": "return n * (n - 1) // 2",
    "returns wrong": "return -1",
    "raises": "raise ValueError('no')",
    "exits": "sys.exit(3)",
    "_exits": "os._exit(3)",
    "loops": "while True:\n            pass",
    "eats memory": "hog = []\n        while True:\n            hog.append(bytearray(1 << 24))",
    "floods output": "while True:\n            print('x' * 100000)",
    "kills itself": "os.kill(os.getpid(), signal.SIGKILL)",
    "segfaults": "ctypes.string_at(0)",
}
PROPERTY_LIMITS = FAST_LIMITS.model_copy(update={"test_seconds": 1.0, "wall_seconds": 10.0})
# PID 1, the two zygotes (the candidates' and the drawings'), the harness, the next candidate
PRISTINE_USERS = [0, 0, 0, 10001, 10002]


def _hostile(actions: list[str], ending: str) -> str:
    body = "\n".join(
        f"    try:\n{textwrap.indent(textwrap.dedent(ACTIONS[a]).strip(), ' ' * 8)}\n"
        "    except OSError:\n        pass"
        for a in actions
    )
    return (
        "import ctypes, os, signal, socket, sys, time\n"
        "libc = ctypes.CDLL(None, use_errno=True)\n"
        "libc.shmat.restype = ctypes.c_void_p\n"
        "libc.shmat.argtypes = [ctypes.c_int, ctypes.c_void_p, ctypes.c_int]\n"
        "libc.mq_open.argtypes = [ctypes.c_char_p, ctypes.c_int, ctypes.c_int, ctypes.c_void_p]\n"
        f"def total(n):\n{body}\n    if True:\n        {ENDINGS[ending]}\n"
    )


def _idle_worker(driver: SandboxDriver) -> str:
    """The id of the pool's one test container once it is back in the queue (replaced, if it
    was recycled)."""
    end = time.monotonic() + 60
    while time.monotonic() < end:
        queued = list(driver.sandbox.idle._queue)  # noqa: SLF001 - a test's look inside
        if queued and queued[0] is not None:
            return queued[0].id
        time.sleep(0.05)
    raise AssertionError("the worker did not come back")


@settings(
    max_examples=24,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    actions=st.lists(st.sampled_from(sorted(ACTIONS)), min_size=1, max_size=4, unique=True),
    ending=st.sampled_from(sorted(ENDINGS)),
)
def test_after_any_job_the_container_is_pristine(lone_driver, actions, ending) -> None:
    result = _run(lone_driver, _hostile(actions, ending), limits=PROPERTY_LIMITS)
    assert result.verdict is not Verdict.PASSED or ending == "returns", result
    state = rt.container_state(_idle_worker(lone_driver))
    assert state["users"] == PRISTINE_USERS, (actions, ending, state)
    assert state["ipc"] == {"shm": 0, "msg": 0, "sem": 0}, (actions, ending, state)
    assert state["mounts"] == {"/tmp": [], "/dev/shm": [], "/dev/mqueue": []}, state
    assert state["shmem"] < 1 << 20, state
