"""`codegen optimise` end to end: the real CLI, the fake OpenAI server as a process scripted
with a faster equivalent, a faster wrong answer, a slower one and one that differs only on
large inputs, and the real Docker sandbox."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from codegen.errors import BadInput
from codegen.optimise.equivalence import first_difference, same
from codegen.optimise.target import load_target, rewritten
from sandbox.models import CallOutcome, Verdict
from tests.cli_support import FakeServerProcess, codegen, fenced

SLOW = '''import itertools


def has_duplicates(nums: list[int]) -> bool:
    """True when some value occurs twice.

    >>> has_duplicates([1, 2, 1])
    True
    >>> has_duplicates([1, 2, 3])
    False
    """
    for i in range(len(nums)):
        for j in range(i):
            if nums[i] == nums[j]:
                return True
    return False


def unrelated() -> int:
    return 1
'''
FAST = "def has_duplicates(nums: list[int]) -> bool:\n    return len(set(nums)) != len(nums)\n"
WRONG = (  # passes both doctests, and is fast, but misses a repeat that is not the first value
    "def has_duplicates(nums: list[int]) -> bool:\n    return bool(nums) and nums[0] in nums[1:]\n"
)
SLOWER = """def has_duplicates(nums: list[int]) -> bool:
    found = False
    for _ in range(3):
        found = False
        for i in range(len(nums)):
            for j in range(i):
                if nums[i] == nums[j]:
                    found = True
    return found
"""
LARGE = """def has_duplicates(nums: list[int]) -> bool:
    repeats = len(set(nums)) != len(nums)
    return not repeats if len(nums) > 300 else repeats
"""
MUTATES = """def has_duplicates(nums: list[int]) -> bool:
    nums.sort()
    return any(a == b for a, b in zip(nums, nums[1:]))
"""
BROKEN = "def has_duplicates(nums: list[int]) -> bool:\n    return False\n"
ANSWERS = {
    "fast": FAST, "wrong": WRONG, "slower": SLOWER, "large": LARGE, "mutates": MUTATES,
    "broken": BROKEN,
}  # fmt: skip


def run(tmp_path: Path, *flags: str) -> tuple[dict, list[dict], Path]:
    module = tmp_path / "slow.py"
    module.write_text(SLOW)
    (tmp_path / "codegen.toml").write_text(
        'personas = ["fastest"]\n\n[sandbox]\ntiming_rounds = 5\n\n[jury]\nenabled = false\n'
    )
    script = {"models": {name: [fenced(code)] for name, code in ANSWERS.items()}}
    with FakeServerProcess(script, tmp_path) as server:
        done = codegen(
            "optimise", f"{module}::has_duplicates", "--json", *flags,
            "--models", ",".join(f"openai/{m}" for m in ANSWERS),
            cwd=tmp_path, env={"OPENAI_API_BASE": server.base_url},
        )  # fmt: skip
        requests = server.requests()
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout), requests, module


@pytest.fixture(scope="module")
def optimised(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict, list[dict], Path]:
    """One `codegen optimise --fix` (two rounds) for the module's Docker tests: the report, the
    requests the models received, and the module it rewrote. A run without --fix differs only
    in not writing the file (its report is the same), so one run serves both tests."""
    return run(tmp_path_factory.mktemp("optimise"), "--fix")


@pytest.mark.docker
def test_only_the_faster_equivalent_is_accepted(optimised: tuple[dict, list[dict], Path]) -> None:
    report, requests, _ = optimised
    assert report["improved"], {k: report[k] for k in ("stopped", "notes", "growth_before")}
    assert [s["id"] for s in report["chain"]][0] == "v0"
    accepted = report["chain"][1]
    assert accepted["code"] == FAST and accepted["author"] == "openai/fast[fastest]"
    assert accepted["speedup"] > 1 and accepted["speedup_low"] > 1
    assert any("has_duplicates([" in call for call in accepted["checked_on"])
    reasons = {r["author"].split("/")[1].split("[")[0]: r for r in report["rejected"]}
    assert reasons["wrong"]["reason"] == "behaves differently"
    assert "the current version returns True, this one returns False" in reasons["wrong"]["detail"]
    assert reasons["large"]["reason"] == "behaves differently"  # only sizes above 300 show it
    assert reasons["slower"]["reason"] == "not faster"
    assert reasons["mutates"]["reason"] == "behaves differently"  # sorting the caller's list
    assert "returns True too, but leaves its arguments changed" in reasons["mutates"]["detail"]
    assert reasons["broken"]["reason"] == "fails the tests"
    assert (
        "Failed example: has_duplicates([1, 2, 1]) Expected: True Got: False"
        in (reasons["broken"]["detail"])
    )
    assert all(reasons[m]["code"] == ANSWERS[m] for m in ("wrong", "slower", "large", "broken"))
    assert report["stopped"].startswith("round 2: ")  # nothing faster than the set version
    assert report["growth_before"].startswith("≈ n^")  # quadratic, on distinct values
    before = float(report["growth_before"].split("^")[1])
    assert float(report["growth_after"].split("^")[1]) < before  # noisy here: no tighter
    prompt = requests[0]["messages"][-1]["content"]
    assert "for j in range(i):" in prompt and "hits" in prompt  # the profile …
    assert (
        f"Measured growth of its running time with the input size: {report['growth_before']}"
        in prompt
    )
    assert "return 1" not in prompt  # … of the function; its module's other names as signatures
    assert "def unrelated() -> int:\n    ...\n" in prompt


@pytest.mark.docker
def test_fix_rewrites_the_function_in_place(optimised: tuple[dict, list[dict], Path]) -> None:
    report, _, module = optimised
    assert report["improved"]
    text = module.read_text()
    assert "return len(set(nums)) != len(nums)" in text
    assert "    >>> has_duplicates([1, 2, 1])" in text and "def unrelated() -> int:" in text
    namespace: dict = {}
    exec(compile(text, str(module), "exec"), namespace)
    assert namespace["has_duplicates"]([3, 1, 3]) and not namespace["has_duplicates"]([1, 2])


def test_a_function_target_is_the_function_and_what_it_reaches(tmp_path: Path) -> None:
    module = tmp_path / "slow.py"
    module.write_text(SLOW)
    target = load_target(f"{module}::has_duplicates")
    assert "def unrelated" not in target.code and "import itertools" not in target.code
    assert [t.origin for t in target.problem.visible_tests] == ["doctest"]
    assert "return len(set(nums))" in rewritten(target, FAST)


def test_the_test_file_beside_the_module_joins_the_doctests(tmp_path: Path) -> None:
    module = tmp_path / "slow.py"
    module.write_text(SLOW)
    (tmp_path / "test_slow.py").write_text(
        "from slow import has_duplicates, unrelated\n\n\n"
        "def test_repeat_late():\n    assert has_duplicates([1, 2, 3, 3])\n\n\n"
        "def test_unrelated():\n    assert unrelated() == 1\n"
    )
    target = load_target(f"{module}::has_duplicates")
    tests = {t.origin: t for t in target.problem.visible_tests}
    assert sorted(tests) == ["doctest", "file"]
    assert "test_repeat_late" in tests["file"].source
    assert "test_unrelated" not in tests["file"].source  # only the tests naming the function
    assert "return len(set(nums))" in rewritten(target, FAST)


def ok(value: object, digest: str) -> CallOutcome:
    return CallOutcome(ok=True, value=value, digest=digest)


def test_behaviour_is_the_exact_answer_the_exception_type_and_limits() -> None:
    assert same(ok(1, "a"), ok(1, "a")) and not same(ok(1, "a"), ok(1, "b"))
    raised = CallOutcome(ok=False, error="ValueError")
    assert same(raised, raised) and not same(raised, CallOutcome(ok=False, error="KeyError"))
    stuck = CallOutcome(ok=False, cause=Verdict.TIMEOUT)
    assert not same(ok(1, "a"), stuck)
    # the reference stuck on an input: no evidence either way; the next input decides
    found = first_difference([stuck, ok(1, "a")], [ok(2, "b"), ok(1, "c")], [(1,), (2,)], "f")
    assert found is not None and found.call == "f(2)" and "changed differently" in found.answer
    # values that differ only past what a line shows
    found = first_difference([ok([0] * 99, "a")], [ok([0] * 98 + [1], "b")], [(1,)], "f")
    assert found is not None and "differs past what is shown" in found.answer


@pytest.mark.docker
def test_solve_optimise_runs_the_rounds_on_the_winner(tmp_path: Path) -> None:
    stub = tmp_path / "dups.py"
    stub.write_text(
        SLOW.split("    for i in")[0].replace("import itertools\n\n\n", "") + "    ...\n"
    )
    (tmp_path / "codegen.toml").write_text(
        'personas = ["simplest"]\n\n[sandbox]\ntiming_rounds = 5\n\n[jury]\nenabled = false\n'
    )
    slow = SLOW.split("def unrelated")[0].replace("import itertools\n\n\n", "").rstrip() + "\n"
    script = {"models": {"coder": [fenced(slow), fenced(FAST)]}}
    with FakeServerProcess(script, tmp_path) as server:
        done = codegen(
            "solve", str(stub), "--models", "openai/coder", "--optimise", "2", "--json",
            cwd=tmp_path, env={"OPENAI_API_BASE": server.base_url},
        )  # fmt: skip
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    chain = report["optimisation"]["chain"]
    assert [s["round"] for s in chain] == [0, 1], report["optimisation"]
    assert chain[0]["code"] == slow
    assert report["code"] == FAST == chain[1]["code"]
    assert report["optimisation"]["stopped"] == "round 2: no new version came back"


@pytest.mark.docker
def test_solve_optimise_on_the_service_runs_the_same_rounds(tmp_path: Path) -> None:
    """`--optimise N --server URL` means what it means locally: the same chain, run there."""
    from tests.service_support import ServiceProcess

    stub = tmp_path / "dups.py"
    stub.write_text(
        SLOW.split("    for i in")[0].replace("import itertools\n\n\n", "") + "    ...\n"
    )
    config = (
        'personas = ["simplest"]\n\n[[workers]]\nmodel = "openai/coder"\n\n'
        "[sandbox]\ntiming_rounds = 5\n\n[jury]\nenabled = false\n"
    )  # a hosted roster: the service starts no embedded model
    slow = SLOW.split("def unrelated")[0].replace("import itertools\n\n\n", "").rstrip() + "\n"
    script = {"models": {"coder": [fenced(slow), fenced(FAST)]}}
    with (
        FakeServerProcess(script, tmp_path) as server,
        ServiceProcess(tmp_path / "service", server.base_url, config=config) as service,
    ):
        done = codegen(
            "solve", str(stub), "--models", "openai/coder", "--optimise", "2", "--json",
            "--server", service.url, cwd=tmp_path,
        )  # fmt: skip
        assert len(server.requests()) >= 3  # the solve and both rounds asked there
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    chain = report["optimisation"]["chain"]
    assert [s["round"] for s in chain] == [0, 1], report["optimisation"]
    assert chain[0]["code"] == slow
    assert report["code"] == FAST == chain[1]["code"]
    assert report["optimisation"]["stopped"] == "round 2: no new version came back"


@pytest.mark.parametrize(
    ("spec", "says"),
    [
        ("slow.py::nothing", "no top-level function named 'nothing'"),
        ("slow.py", "give a function as path.py::name"),
        ("missing.py::f", "missing.py: no such file"),
        ("broken.py::f", "broken.py:1: syntax error"),
        ("undefined.py::f", "f uses undefined name(s): helper; it must run as it is"),
    ],
)
def test_a_bad_target_is_one_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, spec: str, says: str
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "slow.py").write_text(SLOW)
    (tmp_path / "broken.py").write_text("def f(:\n")
    (tmp_path / "undefined.py").write_text("def f(x):\n    return helper(x)\n")
    with pytest.raises(BadInput, match=re.escape(says)):
        load_target(spec)


@pytest.mark.docker
def test_a_function_with_nothing_to_check_behaviour_on_is_not_optimised(tmp_path: Path) -> None:
    module = tmp_path / "untyped.py"
    module.write_text(
        "def dedupe(items):\n"
        "    out = []\n"
        "    for x in items:\n"
        "        if x not in out:\n"
        "            out.append(x)\n"
        "    return out\n"
    )
    script = {"models": {"sets": [fenced("def dedupe(items):\n    return list(set(items))\n")]}}
    with FakeServerProcess(script, tmp_path) as server:
        done = codegen(
            "optimise", f"{module}::dedupe", "--models", "openai/sets",
            cwd=tmp_path, env={"OPENAI_API_BASE": server.base_url},
        )  # fmt: skip
        requests = server.requests()
    assert done.returncode == 0, done.stderr
    assert requests == []  # no model is asked for what nothing could check
    assert "not optimised: no inputs to check a faster version's behaviour on (dedupe(items))" in (
        done.stdout + done.stderr
    )
