"""Candidates and helpers of the red-team suite: attacks on the job boundary, the meter and the
timing job, written by someone who has read the sandbox's code. Kept apart from the tests so
that the tests read as claims."""

from __future__ import annotations

import json
import subprocess
import textwrap

TOTAL_TESTS = textwrap.dedent("""
    from solution import total

    def test_value():
        assert total(10) == 45

    def test_speed(benchmark):
        assert benchmark(total, 200_000) == 199_999 * 200_000 // 2
""")
TOTAL_FILES = {"test_problem.py": TOTAL_TESTS}
LINEAR = "def total(n):\n    s = 0\n    for i in range(n):\n        s += i\n    return s\n"
FORMULA = "def total(n):\n    return n * (n - 1) // 2\n"

# -- IPC that outlives a process ---------------------------------------------------------------
_LIBC = """
import ctypes, os
libc = ctypes.CDLL(None, use_errno=True)
libc.shmat.restype = ctypes.c_void_p
libc.shmat.argtypes = [ctypes.c_int, ctypes.c_void_p, ctypes.c_int]
libc.shmdt.argtypes = [ctypes.c_void_p]
KEY = 0x5EED
IPC_CREAT, IPC_NOWAIT = 0o1000, 0o4000

class Message(ctypes.Structure):
    _fields_ = [("mtype", ctypes.c_long), ("mtext", ctypes.c_char * 64)]
"""

# Each channel stores a short text (`keep(text)`) and finds it again (`find()`), from another
# process, another round or another job.
CHANNELS = {
    "SysV shared memory": """
def _segment():
    ident = libc.shmget(KEY, 4096, IPC_CREAT | 0o666)
    address = libc.shmat(ident, None, 0) if ident >= 0 else None
    if address in (None, ctypes.c_void_p(-1).value):
        return None
    return (ctypes.c_char * 64).from_address(address)

def keep(text):
    cell = _segment()
    if cell is not None:
        cell.value = text.encode()

def find():
    cell = _segment()
    return cell.value.decode() if cell is not None and cell.value else None
""",
    "SysV message queue": """
def keep(text):
    queue = libc.msgget(KEY, IPC_CREAT | 0o666)
    message = Message(1, text.encode())
    libc.msgsnd(queue, ctypes.byref(message), 64, IPC_NOWAIT)

def find():
    queue = libc.msgget(KEY, 0o666)
    message = Message()
    if queue < 0 or libc.msgrcv(queue, ctypes.byref(message), 64, 0, IPC_NOWAIT) < 0:
        return None
    libc.msgsnd(queue, ctypes.byref(message), 64, IPC_NOWAIT)  # leave it for the next one
    return message.mtext.decode()
""",
    "SysV semaphore": """
def keep(text):
    ident = libc.semget(KEY, 1, IPC_CREAT | 0o666)
    libc.semctl(ident, 0, 16, ctypes.c_int(int(text.split("-")[-1])))  # SETVAL

def find():
    ident = libc.semget(KEY, 1, 0o666)
    value = libc.semctl(ident, 0, 12) if ident >= 0 else -1  # GETVAL
    return f"secret-{value}" if value > 0 else None
""",
    "POSIX message queue": """
libc.mq_open.argtypes = [ctypes.c_char_p, ctypes.c_int, ctypes.c_int, ctypes.c_void_p]

def keep(text):
    queue = libc.mq_open(b"/memo", os.O_CREAT | os.O_RDWR | os.O_NONBLOCK, 0o666, None)
    libc.mq_send(queue, text.encode(), len(text), 0)

def find():
    queue = libc.mq_open(b"/memo", os.O_RDWR | os.O_NONBLOCK, 0o666, None)
    buffer = ctypes.create_string_buffer(8192)
    size = libc.mq_receive(queue, buffer, 8192, None) if queue >= 0 else -1
    if size <= 0:
        return None
    libc.mq_send(queue, buffer.raw[:size], size, 0)
    return buffer.raw[:size].decode()
""",
    "POSIX shared memory file": """
def keep(text):
    with open("/dev/shm/memo", "w") as handle:
        handle.write(text)

def find():
    try:
        return open("/dev/shm/memo").read()
    except OSError:
        return None
""",
    "file under a directory chmod 0": """
def keep(text):
    os.makedirs("/tmp/vault/inner", exist_ok=True)
    with open("/tmp/vault/inner/memo", "w") as handle:
        handle.write(text)
    os.chmod("/tmp/vault/inner", 0)
    os.chmod("/tmp/vault", 0)

def find():
    try:
        os.chmod("/tmp/vault", 0o700)
        os.chmod("/tmp/vault/inner", 0o700)
        return open("/tmp/vault/inner/memo").read()
    except OSError:
        return None
""",
}


def channel_program(channel: str, body: str) -> str:
    return _LIBC + CHANNELS[channel] + textwrap.dedent(body)


def memoising_total(channel: str) -> str:
    """``total`` that remembers its answer through ``channel`` and answers at once next time."""
    return channel_program(
        channel,
        """
        def total(n):
            found = find()
            if found and found.startswith(f"{n}:"):
                return int(found.split(":")[1])
            s = 0
            for i in range(n):
                s += i
            keep(f"{n}:{s}")
            return s
        """,
    )


SHM_HOG = _LIBC + textwrap.dedent("""
    def total(n):
        # fill the container's memory with shared memory nobody holds, then leave
        for key in range(KEY, KEY + 8):
            ident = libc.shmget(key, 48 << 20, IPC_CREAT | 0o666)
            if ident < 0:
                continue
            address = libc.shmat(ident, None, 0)
            if address not in (None, ctypes.c_void_p(-1).value):
                ctypes.memset(address, 1, 48 << 20)
                libc.shmdt(address)
        return n * (n - 1) // 2
""")
NEEDS_MEMORY = textwrap.dedent("""
    def total(n):
        block = bytearray(220 << 20)  # honest, and within the candidate's limits
        block[-1] = 1
        return n * (n - 1) // 2
""")

# -- files a weak wipe keeps ---------------------------------------------------------------------
LOCKS_ITS_WORK_DIR = textwrap.dedent("""
    import os
    def total(n):
        os.chmod("/tmp/work", 0)
        os.chmod("/tmp", 0)  # not its own: refused
        return n * (n - 1) // 2
""")
FILLS_AND_LOCKS_TMP = textwrap.dedent("""
    import os
    def total(n):
        os.makedirs("/tmp/full", exist_ok=True)
        try:
            with open("/tmp/full/ballast", "wb") as handle:
                while True:
                    handle.write(b"x" * (1 << 20))
        except OSError:
            pass
        for i in range(10_000):  # and every inode
            try:
                open(f"/tmp/full/{i}", "w").close()
            except OSError:
                break
        os.chmod("/tmp/full", 0)
        return n * (n - 1) // 2
""")
WRITES_A_TEMP_FILE = textwrap.dedent("""
    import tempfile
    def total(n):
        with tempfile.TemporaryFile() as handle:
            handle.write(b"scratch")
        return n * (n - 1) // 2
""")
DEEP_TREE = textwrap.dedent("""
    import os
    def total(n):
        os.makedirs("/tmp/deep", exist_ok=True)
        os.chdir("/tmp/deep")
        for _ in range(3000):  # far past PATH_MAX and any recursion limit
            os.mkdir("d")
            os.chdir("d")
        open("leaf", "w").write("x")
        os.chmod(".", 0)
        return n * (n - 1) // 2
""")

# -- the meter -----------------------------------------------------------------------------------
TABLE_AT_IMPORT = textwrap.dedent("""
    # every answer worked out at import, then each call is one lookup
    _TABLE = []
    _s = 0
    for _i in range(1_000_001):
        _TABLE.append(_s)
        _s += _i
    def total(n):
        return _TABLE[n]
""")

# -- values that dodge the check -----------------------------------------------------------------
DEEP_VALUE = textwrap.dedent("""
    import sys
    sys.setrecursionlimit(100_000)
    def total(n):
        value = n * (n - 1) // 2
        for _ in range(5000):
            value = [value]
        return value
""")
SHARED_REFERENCE_BOMB = textwrap.dedent("""
    import os, pickle, struct
    from codegen_harness import candidate as side

    def _forged(fd, data):
        value = [1, 1]
        for _ in range(60):  # a few hundred bytes of pickle, 2**60 items as a tree
            value = [value, value]
        payload = pickle.dumps(("ok", value, []), protocol=pickle.HIGHEST_PROTOCOL)
        os.write(fd, struct.pack(">I", len(payload)) + payload)

    def total(n):
        side.send = _forged  # the next answers are forged
        return n * (n - 1) // 2
""")

# -- sabotage of the timing job -------------------------------------------------------------------
SLEEPS_WHEN_CALLED = textwrap.dedent("""
    import time
    def total(n):
        time.sleep(2.5)  # wall time, no CPU: cheap when tested, ruinous over many timed rounds
        return n * (n - 1) // 2
""")
KILLS_EVERYTHING = textwrap.dedent("""
    import os, signal
    def total(n):
        for pid in [int(p) for p in os.listdir("/proc") if p.isdigit()]:
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
        return n * (n - 1) // 2
""")
MEMORY_IN_MANY_PROCESSES = textwrap.dedent("""
    import os, time
    def total(n):
        for _ in range(14):  # each small, together past the container's limit
            if os.fork() == 0:
                hog = bytearray(45 << 20)
                for i in range(0, len(hog), 4096):
                    hog[i] = 1
                time.sleep(30)
                os._exit(0)
        time.sleep(3)
        return n * (n - 1) // 2
""")

# -- telling a timed run from a tested one --------------------------------------------------------
OBSERVER = textwrap.dedent("""
    import os, resource, signal, sys
    CALLS = []
    def _read(path):
        try:
            with open(path) as handle:
                return handle.read()
        except OSError as error:
            return type(error).__name__
    def observe(x):
        CALLS.append(x)
        status = [line for line in _read("/proc/self/status").splitlines()
                  if line.split(":")[0] in ("Uid", "Gid", "Groups", "CapEff", "CapBnd",
                                            "NoNewPrivs", "Seccomp", "Cpus_allowed_list")]
        limits = [resource.getrlimit(getattr(resource, name)) for name in dir(resource)
                  if name.startswith("RLIMIT_")]
        cgroup = [_read(f"/sys/fs/cgroup/{path}") for path in (
            "cpuset/cpuset.cpus", "cpu/cpu.cfs_quota_us", "cpu/cpu.cfs_period_us",
            "cpu/cpu.shares", "memory/memory.limit_in_bytes", "pids/pids.max")]
        processes = [p for p in os.listdir("/proc") if p.isdigit()]
        return repr([
            sorted(os.sched_getaffinity(0)), os.sched_getscheduler(0), os.getpriority(0, 0),
            status, limits, cgroup, sorted(os.environ.items()), os.getcwd(), os.getppid(),
            os.getuid(), os.getgroups(), sorted(os.listdir("/proc/self/fd")), sys.argv,
            sys.path, sorted(os.listdir("/tmp")), len(processes), CALLS,
            _read("/proc/self/oom_score_adj"), os.uname().nodename,
            signal.pthread_sigmask(signal.SIG_BLOCK, []),
            [str(signal.getsignal(s)) for s in (signal.SIGINT, signal.SIGTERM, signal.SIGALRM)],
        ])
""")
OBSERVER_TESTS = {
    "test_observe.py": "from solution import observe\n\n"
    "def test_observe(benchmark):\n    assert benchmark(observe, 7)\n"
}

# -- state of a container, read from outside it ---------------------------------------------------
_INSPECT = r"""
import json, os
me = os.getpid()
users = []
for pid in os.listdir("/proc"):
    if pid.isdigit() and int(pid) != me:
        try:
            status = open(f"/proc/{pid}/status").read()
        except OSError:
            continue
        users.append(int(next(l.split()[1] for l in status.splitlines() if l.startswith("Uid:"))))
ipc = {t: len(open(f"/proc/sysvipc/{t}").read().splitlines()) - 1 for t in ("shm", "msg", "sem")}
mounts = {r: sorted(os.listdir(r)) for r in ("/tmp", "/dev/shm", "/dev/mqueue")}
stat = dict(line.split() for line in open("/sys/fs/cgroup/memory/memory.stat"))
print(json.dumps({"users": sorted(users), "ipc": ipc, "mounts": mounts,
                  "shmem": int(stat.get("shmem", 0))}))
"""


def container_state(container_id: str) -> dict:
    """Processes (by user), IPC objects, writable mounts and shared memory of a container, read
    by a root process exec'd into it: not the sandbox's own account of itself."""
    done = subprocess.run(
        ["docker", "exec", "-u", "0", container_id, "python3", "-c", _INSPECT],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)
