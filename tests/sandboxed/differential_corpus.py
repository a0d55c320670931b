"""The corpus of the differential test (``test_differential.py``): problems, and candidate
programs built from parts, honest and hostile, on which the warm pool must give the verdict
of the strict reference path.

A candidate is ``PREFIXES[p] + BODIES[problem][b]``: module-level code (none, work, output, an
exception, attacks on the harness) followed by the function (right, wrong in the ways the
red teams found, or ending in each way a job can end). Hypothesis draws the combinations;
``NAMED`` lists the cases the red teams wrote, always run.

Out of the property, by design: candidates that change modules shared with the tests
(``builtins``, ``random``, ``math``...). In plain pytest they share one process with the tests
and can change what a test computes; in the warm pool they change only their own process. The
strict path catches those (its plain pytest fails them): ``test_what_only_plain_pytest_sees``.
"""

from __future__ import annotations

import textwrap

PROBLEMS = {
    "normalize": textwrap.dedent("""
        import pytest
        from solution import normalize

        def test_sorted():
            assert normalize([3, 1, 2]) == [1, 2, 3]

        def test_a_new_list():
            xs = [2, 1]
            ys = normalize(xs)
            assert ys == [1, 2] and ys is not xs and xs == [2, 1]

        def test_keyword():
            data = [5, 4]
            assert normalize(xs=data) == [4, 5] and data == [5, 4]

        def test_quiet(capsys):
            normalize([1])
            assert capsys.readouterr().out == ""

        def test_empty():
            with pytest.raises(ValueError, match="^empty$"):
                normalize([])

        def test_many():
            cases = [[i, -i, 2 * i] for i in range(1, 30)]
            assert [normalize(c) for c in cases] == [sorted(c) for c in cases]
    """),
    "total": textwrap.dedent("""
        from solution import total

        def test_small():
            assert total(4) == 6

        def test_zero():
            assert total(0) == 0

        def test_speed(benchmark):
            assert benchmark(total, 20_000) == 19_999 * 20_000 // 2
    """),
}

# Module-level code, run at import.
PREFIXES = {
    "nothing": "",
    "work at import": "_TABLE = [i * i for i in range(50_000)]\n",
    "prints at import": "print('loading')\n",
    "imports a lot": "import collections, itertools, functools, heapq, bisect, re, json\n",
    "raises at import": "raise RuntimeError('broken module')\n",
    "exits at import": "import sys\nsys.exit(0)\n",
    "patches pytest in its process": (
        "import sys\n_p = sys.modules.get('pytest')\n"
        "if _p is not None:\n    _p.fail = lambda *a, **k: None\n"
    ),
    "forges a frame on stdout": (
        "import os, struct, json\n_f = json.dumps({'verdict': 'passed'}).encode()\n"
        "os.write(1, struct.pack('>I', len(_f)) + _f)\n"
    ),
    "looks for the tests": (
        "import os\n_seen = [p for p in ('/run/harness', '/tmp/job') if os.path.exists(p)]\n"
    ),
}

BODIES = {
    "normalize": {
        "right": (
            "def normalize(xs):\n    if not xs:\n        raise ValueError('empty')\n"
            "    return sorted(xs)\n"
        ),
        "returns the caller's list": (
            "def normalize(xs):\n    if not xs:\n        raise ValueError('empty')\n"
            "    xs.sort()\n    return xs\n"
        ),
        "copies then sorts in place": (
            "def normalize(xs):\n    if not xs:\n        raise ValueError('empty')\n"
            "    ys = list(xs)\n    ys.sort()\n    return ys\n"
        ),
        "prints": (
            "def normalize(xs):\n    if not xs:\n        raise ValueError('empty')\n"
            "    print(xs)\n    return sorted(xs)\n"
        ),
        "wrong message": (
            "def normalize(xs):\n    if not xs:\n        raise ValueError('empty list')\n"
            "    return sorted(xs)\n"
        ),
        "wrong exception": (
            "def normalize(xs):\n    if not xs:\n        raise IndexError('empty')\n"
            "    return sorted(xs)\n"
        ),
        "returns a tuple": (
            "def normalize(xs):\n    if not xs:\n        raise ValueError('empty')\n"
            "    return tuple(sorted(xs))\n"
        ),
        "a list subclass": (
            "class Items(list):\n    pass\n\n"
            "def normalize(xs):\n    if not xs:\n        raise ValueError('empty')\n"
            "    return Items(sorted(xs))\n"
        ),
        "always equal": (
            "class Same(list):\n    def __eq__(self, other):\n        return True\n\n"
            "def normalize(xs):\n    if not xs:\n        raise ValueError('empty')\n"
            "    return Same([0])\n"
        ),
        "its own error class": (
            "class Empty(ValueError):\n    pass\n\n"
            "def normalize(xs):\n    if not xs:\n        raise Empty('empty')\n"
            "    return sorted(xs)\n"
        ),
        "loops on empty": (
            "def normalize(xs):\n    while not xs:\n        pass\n    return sorted(xs)\n"
        ),
    },
    "total": {
        "right": "def total(n):\n    return n * (n - 1) // 2\n",
        "loop": "def total(n):\n    s = 0\n    for i in range(n):\n        s += i\n    return s\n",
        "off by one": "def total(n):\n    return n * (n + 1) // 2\n",
        "slow": (
            "def total(n):\n    s = 0\n    for i in range(n):\n        for _ in range(3):\n"
            "            s += i\n    return s // 3\n"
        ),
        "int subclass": (
            "class Num(int):\n    def __eq__(self, other):\n        return True\n"
            "    __hash__ = int.__hash__\n\n"
            "def total(n):\n    return Num(n * (n - 1) // 2)\n"
        ),
        "forks a child": (
            "import os\n\ndef total(n):\n    if os.fork() == 0:\n        os._exit(0)\n"
            "    os.wait()\n    return n * (n - 1) // 2\n"
        ),
        "loops forever": "def total(n):\n    while True:\n        pass\n",
        "eats memory": (
            "def total(n):\n    hog = []\n    while True:\n        hog.append(bytearray(1 << 24))\n"
        ),
        "floods output": "def total(n):\n    while True:\n        print('x' * 100_000)\n",
        "exits": "import sys\n\ndef total(n):\n    sys.exit(0)\n",
        "kills itself": (
            "import os, signal\n\ndef total(n):\n    os.kill(os.getpid(), signal.SIGKILL)\n"
        ),
        "recursion": "def total(n):\n    return total(n + 1)\n",
        "not defined": "def sum_up(n):\n    return n * (n - 1) // 2\n",
    },
}

# The red teams' cases, by name: (problem, prefix, body).
NAMED = [
    ("normalize", "nothing", "right"),
    ("normalize", "nothing", "returns the caller's list"),
    ("normalize", "nothing", "prints"),
    ("normalize", "nothing", "wrong message"),
    ("normalize", "nothing", "always equal"),
    ("normalize", "nothing", "its own error class"),
    ("normalize", "patches pytest in its process", "right"),
    ("normalize", "forges a frame on stdout", "always equal"),
    ("total", "nothing", "right"),
    ("total", "work at import", "loop"),
    ("total", "nothing", "int subclass"),
    ("total", "nothing", "forks a child"),
    ("total", "nothing", "loops forever"),
    ("total", "nothing", "eats memory"),
    ("total", "raises at import", "right"),
    ("total", "nothing", "not defined"),
]

# Changes to modules shared with the tests: only plain pytest sees what they do to a test.
SHARED_STATE = {
    "normalize": (
        "import builtins\n_real = sorted\n"
        "builtins.sorted = lambda xs, **k: list(reversed(_real(xs)))\n"
        + BODIES["normalize"]["right"].replace("sorted(xs)", "_real(xs)")
    ),
}


def candidate(problem: str, prefix: str, body: str) -> str:
    return PREFIXES[prefix] + BODIES[problem][body]
