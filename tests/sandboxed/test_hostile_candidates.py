"""Every hostile candidate gets the right verdict, never a false pass, and leaves nothing behind.

The tests all share one pool, so each also proves that the previous attack did not damage the
containers: the honest candidate at the end must still pass.
"""

from __future__ import annotations

import textwrap

import pytest

from sandbox import Verdict

pytestmark = pytest.mark.docker

TESTS = textwrap.dedent("""
    from solution import solve

    def test_small():
        assert solve(3) == 9

    def test_zero():
        assert solve(0) == 0
""")
HONEST = "def solve(n):\n    return n * n\n"


def candidate(body: str) -> str:
    return textwrap.dedent(body)


HOSTILE = {
    "infinite loop": ("def solve(n):\n    while True:\n        pass\n", {Verdict.TIMEOUT}),
    "infinite loop at import": ("while True:\n    pass\n", {Verdict.TIMEOUT}),
    "fork bomb": (
        candidate("""
        import os
        def solve(n):
            while True:
                try:
                    os.fork()
                except OSError:
                    pass
        """),
        {Verdict.TIMEOUT, Verdict.CRASHED},
    ),
    "memory bomb": (
        candidate("""
        def solve(n):
            hog = []
            while True:
                hog.append(bytearray(10 ** 7))
        """),
        {Verdict.MEMORY_LIMIT},
    ),
    "print 100 MB": (
        candidate("""
        def solve(n):
            chunk = "x" * 10 ** 6
            for _ in range(100):
                print(chunk)
            return n * n
        """),
        {Verdict.OUTPUT_LIMIT},
    ),
    "sys.exit at import": ("import sys\nsys.exit(0)\n", {Verdict.ERROR}),
    "os._exit at import": ("import os\nos._exit(0)\n", {Verdict.CRASHED}),
    "sys.exit mid-test": ("import sys\ndef solve(n):\n    sys.exit(0)\n", {Verdict.CRASHED}),
    "os._exit mid-test": ("import os\ndef solve(n):\n    os._exit(0)\n", {Verdict.CRASHED}),
    "__eq__ always true": (
        candidate("""
        class Anything:
            def __eq__(self, other):
                return True
        def solve(n):
            return Anything()
        """),
        {Verdict.FAILED},
    ),
    "int subclass with lying __eq__": (
        candidate("""
        class Liar(int):
            def __eq__(self, other):
                return True
            __hash__ = int.__hash__
        def solve(n):
            return Liar(-1)
        """),
        {Verdict.FAILED},
    ),
    "patches builtins, pytest and the clock": (
        candidate("""
        import builtins, time
        builtins.AssertionError = type("Nope", (Exception,), {})
        builtins.print = lambda *a, **k: None
        time.perf_counter = lambda: 0.0
        try:
            import pytest, _pytest.outcomes
            pytest.fail = lambda *a, **k: None
            _pytest.outcomes.fail = lambda *a, **k: None
        except ImportError:
            pass
        def solve(n):
            return -1
        """),
        {Verdict.FAILED},
    ),
    "imitates the result protocol": (
        candidate("""
        import json, os, struct, sys
        fake = json.dumps({"verdict": "passed", "tests": [], "clean": True}).encode()
        frame = struct.pack(">I", len(fake)) + fake
        sys.stdout.buffer.write(frame); sys.stdout.flush()
        os.write(1, frame)
        for path in ("/proc/1/fd/1", "/proc/1/fd/0", "/proc/self/fd/1"):
            try:
                with open(path, "wb") as handle:
                    handle.write(frame)
            except OSError:
                pass
        def solve(n):
            print('{"verdict": "passed"}')
            return -1
        """),
        {Verdict.FAILED},
    ),
    "reads the tests from disk": (
        candidate("""
        import glob, re
        def solve(n):
            for path in glob.glob("/tmp/**/*.py", recursive=True):
                text = open(path).read()
                found = re.findall(r"solve\\(" + str(n) + r"\\) == (\\d+)", text)
                if found:
                    return int(found[0])
            return -1
        """),
        {Verdict.FAILED},
    ),
    "looks for the test module in memory": (
        candidate("""
        import gc, sys
        def solve(n):
            names = [m for m in sys.modules if "test_problem" in m]
            texts = [o for o in gc.get_objects() if isinstance(o, dict) and "test_small" in o]
            return 9 if (names or texts) else -1
        """),
        {Verdict.FAILED},
    ),
}


@pytest.mark.parametrize("name", list(HOSTILE))
def test_hostile_candidate_gets_its_verdict(sandbox_driver, name: str) -> None:
    source, expected = HOSTILE[name]
    result = sandbox_driver.run(source, TESTS)
    assert result.verdict in expected, (result.verdict, result.message)
    assert result.verdict is not Verdict.PASSED
    assert result.message


def test_killing_everything_in_reach_hurts_nobody(sandbox_driver) -> None:
    """Candidates run under a user of their own: the harness and PID 1 are out of reach, so the
    attack only costs the attacker its own helpers, and the job goes on."""
    source = candidate("""
        import os, signal
        def solve(n):
            hit = []
            for pid in [os.getppid(), 1] + [int(p) for p in os.listdir("/proc") if p.isdigit()]:
                if pid != os.getpid():
                    try:
                        os.kill(pid, signal.SIGKILL)
                        hit.append(pid)
                    except OSError:
                        pass
            os.kill(-1, signal.SIGKILL)
            return n * n if not hit else hit
        """)
    result = sandbox_driver.run(source, TESTS)
    assert result.verdict is Verdict.PASSED, result.message


def test_network_is_unreachable(sandbox_driver) -> None:
    source = candidate("""
        import socket
        def solve(n):
            reached = []
            try:
                socket.getaddrinfo("example.com", 80)
                reached.append("dns")
            except OSError:
                pass
            for address in [("1.1.1.1", 53), ("10.0.0.1", 80), ("172.17.0.1", 2375)]:
                try:
                    socket.create_connection(address, timeout=0.5).close()
                    reached.append(address[0])
                except OSError:
                    pass
            try:
                with socket.socket(socket.AF_UNIX) as unix:
                    unix.connect("/var/run/docker.sock")
                    reached.append("docker.sock")
            except OSError:
                pass
            return n * n if not reached else reached
        """)
    assert sandbox_driver.run(source, TESTS).verdict is Verdict.PASSED


def test_filesystem_is_read_only_outside_tmp(sandbox_driver) -> None:
    source = candidate("""
        import ctypes, os
        def solve(n):
            escaped = []
            for path in ("/etc/evil", "/usr/evil", "/opt/codegen/evil", "/evil"):
                try:
                    with open(path, "w") as handle:
                        handle.write("x")
                    escaped.append(path)
                except OSError:
                    pass
            others = [p for p in os.listdir("/proc") if p.isdigit() and int(p) != os.getpid()]
            for pid in others:
                for leaf in ("root/etc/hostname", "environ", "mem", "fd/0", "fd/1", "fd/3"):
                    path = f"/proc/{pid}/{leaf}"
                    try:
                        open(path, "rb").read(1)
                        escaped.append(path)
                    except OSError:
                        pass
                libc = ctypes.CDLL(None, use_errno=True)
                if libc.ptrace(16, int(pid), 0, 0) == 0:  # PTRACE_ATTACH
                    escaped.append(f"ptrace {pid}")
            return n * n if not escaped else escaped
        """)
    result = sandbox_driver.run(source, TESTS)
    assert result.verdict is Verdict.PASSED, result.message


def test_nothing_survives_into_the_next_job(sandbox_driver) -> None:
    """A daemon and files from one job must be gone when the next job runs."""
    plant = candidate("""
        import os, time
        if os.fork() == 0:
            os.setsid()
            time.sleep(60)
        open("/tmp/planted", "w").write("cache")
        os.makedirs("/dev/shm/planted", exist_ok=True)
        def solve(n):
            return n * n
        """)
    assert sandbox_driver.run(plant, TESTS).verdict is Verdict.PASSED
    inspect = candidate("""
        import os
        def solve(n):
            others = [p for p in os.listdir("/proc") if p.isdigit()
                      and int(p) not in (1, os.getpid(), os.getppid())]
            leftovers = [p for p in ("/tmp/planted", "/dev/shm/planted") if os.path.exists(p)]
            # the two zygotes and the harness
            return n * n if len(others) <= 3 and not leftovers else (others, leftovers)
        """)
    for _ in range(2):  # one of the two workers may be the other container
        result = sandbox_driver.run(inspect, TESTS)
        assert result.verdict is Verdict.PASSED, result.message


def test_honest_candidate_still_passes_after_the_attacks(sandbox_driver) -> None:
    result = sandbox_driver.run(HONEST, TESTS)
    assert result.verdict is Verdict.PASSED, result.message
    assert [t.status for t in result.tests] == ["passed", "passed"]


SIGNALS_THE_HARNESS = candidate("""
    import os, signal
    def solve(n):
        others = [int(p) for p in os.listdir("/proc") if p.isdigit()
                  and int(p) not in (1, os.getpid())]
        for pid in others:
            for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGUSR1, signal.SIGALRM,
                        signal.SIG_NUMBER):
                try:
                    os.kill(pid, sig)
                except OSError:
                    pass
        return -1
    """)


@pytest.mark.parametrize("sig", ["SIGHUP", "SIGSTOP"])
def test_signalling_the_harness_never_passes(sandbox_driver, sig: str) -> None:
    """The harness is another user's process: signals to it are refused (EPERM), so the
    candidate's wrong answer is simply judged."""
    source = SIGNALS_THE_HARNESS.replace("SIG_NUMBER", sig)
    limits = sandbox_driver.sandbox.limits.model_copy(update={"wall_seconds": 4.0})
    result = sandbox_driver.run(source, TESTS, limits=limits)
    assert result.verdict is Verdict.FAILED, (result.verdict, result.message)


def test_modules_planted_for_the_harness_are_never_imported(sandbox_driver) -> None:
    """Tests and pytest import some modules lazily (here the test imports colorsys); a module of
    that name planted in /tmp must never be picked up by the trusted side."""
    trojan = textwrap.dedent("""
        import gc, sys
        plugin = sys.modules.get("codegen_harness.pytest_plugin")
        if plugin is not None:
            class Forged(dict):
                def __setitem__(self, key, value):
                    super().__setitem__(key, dict(value, status="passed", cause=None))
            for job in [o for o in gc.get_objects() if isinstance(o, plugin.Job)]:
                job.outcomes = Forged()
        raise ImportError("trojan")
    """)
    source = candidate(f"""
        import os
        TROJAN = {trojan!r}
        for root, dirs, files in os.walk("/tmp"):
            for name in ("colorsys", "difflib", "pprint", "unicodedata", "textwrap"):
                try:
                    with open(os.path.join(root, name + ".py"), "w") as handle:
                        handle.write(TROJAN)
                except OSError:
                    pass
        def solve(n):
            return "x" * 50 + "wrong" + "y" * 50
        """)
    tests = (
        "from solution import solve\n\ndef test_text():\n    value = solve(1)\n"
        "    import colorsys\n    assert value == 'x' * 50 + 'right' + 'y' * 50\n"
    )
    result = sandbox_driver.run(source, tests)
    assert result.verdict is Verdict.FAILED, (result.verdict, result.message)


def test_a_forged_answer_cannot_allocate_in_the_harness(sandbox_driver) -> None:
    """An answer is unpickled by the harness: one that asks for bytearray(10**10) is refused."""
    source = candidate("""
        import os, pickle, struct
        from codegen_harness import candidate as side
        class Bomb:
            def __reduce__(self):
                return (bytearray, (10 ** 10,))
        def forged(fd, data):
            payload = pickle.dumps(("ok", Bomb(), []), protocol=2)
            os.write(fd, struct.pack(">I", len(payload)) + payload)
        side.send = forged
        def solve(n):
            return n * n
        """)
    result = sandbox_driver.run(source, TESTS)
    assert result.verdict in {Verdict.CRASHED, Verdict.ERROR}, (result.verdict, result.message)
