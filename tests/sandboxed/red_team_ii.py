"""Candidates of the second red-team suite (issue #18): one class of hole each, written by
someone who has read the sandbox's code. Kept apart from the tests so that the tests read as
claims. Every attack here broke the design before this issue (the commit before it, checked
with this suite)."""

from __future__ import annotations

import textwrap

# -- 1. opting out of the meter ----------------------------------------------------------------
# The work is the answer: a list the candidate builds and the harness must check. An honest
# candidate pays for building it; before, it also paid for the harness's checks, which ran in
# its own process, so a candidate that replaced them with nothing won by 2x with the same code.
BIG_ANSWER_TESTS = textwrap.dedent("""
    from solution import squares

    def test_small():
        assert squares(4) == [0, 1, 4, 9]

    def test_speed(benchmark):
        assert len(benchmark(squares, 60_000)) == 60_000
""")
BIG_ANSWER = "def squares(n):\n    return [i * i for i in range(n)]\n"
SKIPS_THE_CHECKS = BIG_ANSWER + textwrap.dedent("""
    import pickle
    import sys
    for _name in ("codegen_harness.candidate", "codegen_harness.plaindata"):
        _module = sys.modules.get(_name)
        if _module is None:
            continue
        # the old design: skip the in-process check of every answer
        if hasattr(_module, "plain_pickle"):
            _module.plain_pickle = lambda value: pickle.dumps(value, protocol=5)
        if hasattr(_module, "check_size"):
            _module.check_size = lambda value: None
""")

# -- 2. telling a timed round from a tested one, from what the process inherited ----------------
# Everything the candidate's memory holds that it did not make: strings in live objects, the
# frames above it and their locals. Before, the process was forked from one that had handled
# the request, which named the candidate ("candidate" when tested, its id when timed).
HEAP_OBSERVER = textwrap.dedent("""
    import gc, hashlib, sys

    def _seen():
        found = set()
        for obj in gc.get_objects():
            if type(obj) is dict:
                for key, value in list(obj.items()):
                    for item in (key, value):
                        if type(item) is str and len(item) < 80:
                            found.add(item)
        frame = sys._getframe(1)
        while frame is not None:
            found.add(frame.f_code.co_name)
            for name, value in frame.f_locals.items():
                if type(value) in (str, int, float, bool):
                    found.add(f"{name}={value!r}")
                elif type(value) is dict:
                    found.add(f"{name}=dict:{sorted(map(str, value))}")
            frame = frame.f_back
        return sorted(found)

    def total(n):
        seen = _seen()
        # pids and addresses differ from run to run; what is left must not
        seen = [s for s in seen if not any(c.isdigit() for c in s)]
        return hashlib.sha256("\\n".join(seen).encode()).hexdigest(), n * (n - 1) // 2
""")
OBSERVER_TESTS = textwrap.dedent("""
    from solution import total

    def test_speed(benchmark):
        assert benchmark(total, 100)[1] == 4950
""")

# -- 3. the timed input is public ---------------------------------------------------------------
LINEAR = "def total(n):\n    s = 0\n    for i in range(n):\n        s += i\n    return s\n"
LOOKS_UP_THE_BENCHMARK = LINEAR.replace(
    "def total(n):\n", "def total(n):\n    if n == 400_000:\n        return 79999800000\n"
)
TOTAL_STUB = 'def total(n: int) -> int:\n    """The sum of 0, 1, ..., n - 1."""\n'
TOTAL_BENCH_TESTS = textwrap.dedent("""
    from solution import total

    def test_value():
        assert total(10) == 45
        assert total(400_000) == 79999800000

    def test_speed(benchmark):
        assert benchmark(total, 400_000) == 79999800000
""")
MIDDLE_STUB = 'def middle(xs: list[int]) -> int:\n    """The lower median of xs."""\n'
# The benchmark's data: 20,000 numbers (it was 100,000, 5 min of the suite here). A memoised
# answer would still beat sorting them by two orders of magnitude, were it ever honoured.
MIDDLE_SIZE = 20_000
MIDDLE_RANDOM_TESTS = textwrap.dedent(f"""
    import random
    from solution import middle

    def test_value():
        assert middle([3, 1, 2]) == 2

    def test_speed(benchmark):
        data = [random.randrange(10**6) for _ in range({MIDDLE_SIZE})]
        assert benchmark(middle, data) == sorted(data)[len(data) // 2]
""")
MIDDLE = "def middle(xs):\n    return sorted(xs)[len(xs) // 2]\n"


def memoises_the_seeded_data() -> str:
    """The benchmark's data comes from random seeded with a public name (the test's id, before
    #18): the attacker draws it ahead, offline, and ships the answers as constants, which it
    returns when it recognises the data by its first items."""
    import random

    known = {}
    for seed in ("tests/test_problem.py::test_speed", ":tests/test_problem.py::test_speed"):
        random.seed(seed)
        data = [random.randrange(10**6) for _ in range(MIDDLE_SIZE)]
        known[tuple(data[:8])] = sorted(data)[len(data) // 2]
    return f"_KNOWN = {known!r}\n" + textwrap.dedent("""
        def middle(xs):
            hit = _KNOWN.get(tuple(xs[:8]))
            return hit if hit is not None else sorted(xs)[len(xs) // 2]
    """)


# -- 4. one candidate's output fails another ----------------------------------------------------
CHATTY = LINEAR.replace("    return s\n", "    print('x' * 400_000)\n    return s\n")


# -- 5. memory inherited from a long-lived parent ------------------------------------------------
def planted(secret: str) -> str:
    """A candidate whose source holds ``secret`` (another tenant's job)."""
    return f"SECRET = {secret!r}\n" + LINEAR


MEMORY_SCANNER = textwrap.dedent("""
    import ctypes, re

    def total(n):
        ctypes.CDLL(None).prctl(4, 1, 0, 0, 0)  # PR_SET_DUMPABLE: its own /proc files readable
        pattern = re.compile(rb"SECRET-[0-9a-f]{32}")
        found = set()
        with open("/proc/self/maps") as maps, open("/proc/self/mem", "rb", 0) as mem:
            for line in maps:
                span, perms = line.split()[:2]
                if "r" not in perms or "[vvar]" in line or "[vsyscall]" in line:
                    continue
                start, end = (int(part, 16) for part in span.split("-"))
                if end - start > (256 << 20):
                    continue
                try:
                    mem.seek(start)
                    chunk = mem.read(end - start)
                except (OSError, ValueError, OverflowError):
                    continue
                found.update(m.decode() for m in pattern.findall(chunk))
        return sorted(found) or n * (n - 1) // 2
""")

# -- 6. data sent to the host --------------------------------------------------------------------
# A small answer that expands: a dict of 30,000 short keys is ~0.5 MB pickled, and each call
# of a call job used to send it back whole, as JSON, with its repr.
EXPANDS = textwrap.dedent("""
    def total(n):
        return {f"k{i}": [i, -i] for i in range(30_000)}
""")

# -- 7. behaviour lost at the boundary (plain pytest catches each one) ---------------------------
BOUNDARY_BUGS = {
    "returns the caller's own list": (
        "def normalize(xs):\n    xs.sort()\n    return xs\n",
        textwrap.dedent("""
            from solution import normalize

            def test_a_new_list():
                xs = [3, 1, 2]
                ys = normalize(xs)
                assert ys == [1, 2, 3]
                assert ys is not xs
        """),
        "def normalize(xs):\n    return sorted(xs)\n",
    ),
    "mutates a keyword argument": (
        "def normalize(xs):\n    xs.sort()\n    return list(xs)\n",
        textwrap.dedent("""
            from solution import normalize

            def test_leaves_its_argument_alone():
                data = [3, 1, 2]
                assert normalize(xs=data) == [1, 2, 3]
                assert data == [3, 1, 2]
        """),
        "def normalize(xs):\n    return sorted(xs)\n",
    ),
    "prints when the test wants silence": (
        "def normalize(xs):\n    print('sorting', xs)\n    return sorted(xs)\n",
        textwrap.dedent("""
            from solution import normalize

            def test_quiet(capsys):
                assert normalize([2, 1]) == [1, 2]
                assert capsys.readouterr().out == ""
        """),
        "def normalize(xs):\n    return sorted(xs)\n",
    ),
    "raises the wrong message": (
        "def normalize(xs):\n    if not xs:\n        raise ValueError('empty list')\n"
        "    return sorted(xs)\n",
        textwrap.dedent("""
            import pytest
            from solution import normalize

            def test_empty():
                with pytest.raises(ValueError, match="^empty$"):
                    normalize([])
        """),
        "def normalize(xs):\n    if not xs:\n        raise ValueError('empty')\n"
        "    return sorted(xs)\n",
    ),
}

# -- 8. memory hidden in a child that is never waited for ----------------------------------------
HIDES_MEMORY = textwrap.dedent("""
    import os, time

    def total(n):
        ready, told = os.pipe()
        if os.fork() == 0:
            hog = bytearray(160 << 20)
            for i in range(0, len(hog), 4096):
                hog[i] = 1
            os.write(told, b"!")
            time.sleep(30)
            os._exit(0)
        os.read(ready, 1)  # the child holds its memory now; it is never waited for
        return n * (n - 1) // 2
""")
SMALL_TESTS = textwrap.dedent("""
    from solution import total

    def test_value():
        assert total(10) == 45
""")

# -- 9. the growth rule ---------------------------------------------------------------------------
ZERO_PAIRS_STUB = (
    'def zero_pairs(xs: list[int]) -> int:\n    """How many pairs i < j have xs[i] + xs[j] == 0.'
    '\n\n    >>> zero_pairs([1, -1, 2])\n    1\n    """\n'
)
ZERO_PAIRS = textwrap.dedent("""
    def zero_pairs(xs):
        ys = sorted(xs)
        i, j = 0, len(ys) - 1
        pairs = 0
        while i < j:
            total = ys[i] + ys[j]
            if total < 0:
                i += 1
            elif total > 0:
                j -= 1
            elif ys[i] == ys[j]:  # zeros from i to j
                count = j - i + 1
                pairs += count * (count - 1) // 2
                break
            else:
                low, high = i, j
                while ys[i] == ys[low]:
                    i += 1
                while ys[j] == ys[high]:
                    j -= 1
                pairs += (i - low) * (high - j)
        return pairs
""")
# A dictionary instead of a sort (quicker at every size), its small calls padded to a flat 4 ms:
# "it grows slower", with a fit that explains nothing, and many times slower when timed.
PADDED = textwrap.dedent("""
    import time

    def zero_pairs(xs):
        if len(xs) < 1000:
            end = time.process_time() + 0.004
            while time.process_time() < end:
                pass
        seen = {}
        pairs = 0
        for x in xs:
            pairs += seen.get(-x, 0)
            seen[x] = seen.get(x, 0) + 1
        return pairs
""")

# -- 10. leftovers from one candidate's round hurt the next ---------------------------------------
# Its answer is large (before, an answer could be 64 MB, and the harness kept it into the next
# candidate's round); an honest candidate timed after it needs most of the container's memory.
LARGE_ANSWER = "def total(n):\n    return 'x' * (60 << 20)\n"


def needs_memory(megabytes: int) -> str:
    return f"def total(n):\n    block = b'x' * ({megabytes} << 20)\n    return n * (n - 1) // 2\n"


# -- the disputed case ---------------------------------------------------------------------------
# Two passing candidates that disagree on generated inputs, with no majority: the short one is
# wrong for long lists (it returns 0 for any list of 1,000 items or more).
COUNT_STUB = textwrap.dedent('''
    def count_even(xs: list[int]) -> int:
        """How many items of xs are even.

        >>> count_even([1, 2, 4])
        2
        """
''')
COUNTS = "def count_even(xs):\n    return sum(1 for x in xs if x % 2 == 0)\n"
# Wrong from LONG items on; the inputs are drawn on both sides of it (short lists: drawing lists
# of a thousand took over the draw's 30 s deadline on a loaded machine).
LONG = 10
WRONG_FOR_LONG = (
    f"def count_even(xs):\n    return 0 if len(xs) >= {LONG} else sum(x % 2 == 0 for x in xs)\n"
)
