"""Examples written in prose: parsing, the tests made of them, the inputs drawn like them, and
the ranking setting aside an example no candidate satisfies."""

from __future__ import annotations

import ast
import time
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from codegen.errors import BadInput
from codegen.problems import load_problem
from codegen.problems.examples import NOT_ALIASES, WORD_VALUES, prose_examples
from codegen.problems.loaders import problem_from_stub
from codegen.problems.model import is_plain
from codegen.ranking.inputs import draw_here, timing_here
from codegen.ranking.soft_tests import SET_ASIDE, set_aside_unsatisfiable
from sandbox.models import RunResult, TestOutcome, Verdict
from sandbox.models import TestStatus as Status
from tests.test_problem import run_tests


def parsed(doc: str, params: tuple[str, ...] = ("a", "b")) -> list[tuple[Any, Any]]:
    return [(e.args, e.expected) for e in prose_examples(doc, "f", params)]


@pytest.mark.parametrize(
    ("line", "args", "expected"),
    [
        ("f(1, 2) == 3", (1, 2), 3),
        ("f(1, 2) ➞ 3", (1, 2), 3),
        ("f(1, 2) => 3", (1, 2), 3),
        ("f(1, 2) ==> 3", (1, 2), 3),
        ("f(1, 2) -> [3, 4]", (1, 2), [3, 4]),
        ("f(1, 2) = 'x'", (1, 2), "x"),
        ("f(1, 2) returns 'Hello !!!Wdlor'", (1, 2), "Hello !!!Wdlor"),
        ("f(1, 2) should return 16.", (1, 2), 16),
        ("f([1], 'a') should return True.", ([1], "a"), True),
        ('f(-1, 2)   # returns "db1111db"', (-1, 2), "db1111db"),
        ("f(1, 2) # => 'No' (the name should start with a letter)", (1, 2), "No"),
        ("f(1, 2) => true", (1, 2), True),
        ("* f(1, 2) ==>0", (1, 2), 0),
        ("for f(1, 2) == (None, 1)", (1, 2), (None, 1)),
        ("f({'a': 1}, {2}) == {'a': 2}", ({"a": 1}, {2}), {"a": 2}),
        ("f(1, 2) == 1 + 9 + 0 = 10", (1, 2), 10),
        ("f('5 apples', 19) ->19 - 5 - 6 = 8", ("5 apples", 19), 8),
        ("f(1, 2) = 'a=b'", (1, 2), "a=b"),
        ("f(a=1, b=2) == 3", (1, 2), 3),
        ("f(1) == 3", (1,), 3),  # b may have a default
        ("f(hello, 2) ➞ 'olleh'", ("hello", 2), "olleh"),  # an unquoted word is a string
        ("f(TRUE, [False, none]) -> FaLsE", (True, [False, None]), False),
        ("sumOf(1, 2) == 3", (1, 2), 3),  # the only other name used is the function's
    ],
)
def test_call_forms(line: str, args: tuple, expected: Any) -> None:
    assert parsed(f"Examples:\n    {line}\n") == [(args, expected)]


@pytest.mark.parametrize(
    "line",
    [
        "f(a) => False",  # not literals (a is a parameter, not a word)
        "f(x) => False",  # one letter: a variable, not a word
        "g(1, 2) == 3\nh(1, 2) == 4",  # two other names: neither is the function's
        "len([1, 2]) == 2",  # a builtin is never the function
        'f(["x"]) == ""x"',  # a typo, not the empty string
        "f(1, 2) is big",  # no value
        "f(1, 2, 3) == 6",  # more arguments than parameters
        "f(c=1) == 2",  # unknown parameter
        "def f(a, b) == 3",
        "self.f(1, 2) == 3",
        "f(1, 2",
        "f(1) == 1e999",  # inf: no literal writes it back
        "f(1) == " + "[" * 300 + "]" * 300,  # nested past what the parser takes back
    ],
)
def test_what_is_not_an_example(line: str) -> None:
    assert parsed(f"{line}\n") == []


WORD = st.from_regex(r"[A-Za-z][A-Za-z0-9_]{1,12}", fullmatch=True).filter(
    lambda w: w.lower() not in WORD_VALUES and w not in NOT_ALIASES and w not in ("a", "b")
)
EXPECTED = st.integers(-(10**6), 10**6) | st.text(alphabet="abcXYZ !", max_size=8)


def any_case(word: str) -> st.SearchStrategy[str]:
    flips = st.lists(st.booleans(), min_size=len(word), max_size=len(word))
    return flips.map(
        lambda up: "".join(c.upper() if u else c for c, u in zip(word, up, strict=True))
    )


@settings(max_examples=150, deadline=None)
@given(WORD, EXPECTED, st.sampled_from(["==", "➞", "=>", "returns", "should return"]))
def test_an_unquoted_single_word_argument_is_a_string(word: str, expected: Any, arrow: str):
    assert parsed(f"Example:\n    f({word}, 1) {arrow} {expected!r}\n") == [((word, 1), expected)]


@settings(max_examples=150, deadline=None)
@given(
    st.sampled_from(sorted(WORD_VALUES)).flatmap(any_case),
    st.sampled_from(sorted(WORD_VALUES)).flatmap(any_case),
)
def test_true_false_none_in_any_case(argument: str, result: str) -> None:
    want = WORD_VALUES[result.lower()]
    assert parsed(f"f([{argument}], 2) => {result}\n") == [
        (([WORD_VALUES[argument.lower()]], 2), want)
    ]


@settings(max_examples=150, deadline=None)
@given(WORD, st.integers(-100, 100), EXPECTED)
def test_examples_under_another_name_are_the_functions(name: str, arg: int, expected: Any):
    doc = f"Examples:\n    {name}({arg}) == {expected!r}\n"
    assert parsed(doc) == [((arg,), expected)]
    assert prose_examples(doc, "f", ("a", "b"), others=(name,)) == []  # a helper's examples
    two = doc + f"    {name}_2({arg}) == {expected!r}\n"
    assert parsed(two) == []  # which name is the function's is unclear


def test_keyword_and_input_output_forms() -> None:
    doc = """
    For lst = [1,2,3] the output should be 14
    For s = "abcde", c = "ae", the result should be ('bcd',False)
    For N = 1000, the sum of digits will be 1 the output should be "1".

    Example 1:
        Input: arr = [111,21,3], k = 2
        Output: 24 # sum of 21 + 3
    Example 2:
        Input: 3
        Explanation: two lines later
        Output: (1, 2)
    """
    assert parsed(doc, ("lst",))[:1] == [(([1, 2, 3],), 14)]
    assert parsed(doc, ("s", "c"))[:1] == [(("abcde", "ae"), ("bcd", False))]
    assert parsed(doc, ("N",))[:1] == [((1000,), "1")]
    assert (([111, 21, 3], 2), 24) in parsed(doc, ("arr", "k"))
    assert ((3,), (1, 2)) in parsed(doc, ("n",))


def test_multiline_calls_broken_doctests_and_duplicates() -> None:
    doc = """
    f([
      [1, 2],
      [3]
    ], 1) == [(0, 0)]
    >>> f("ab\ncd", 2)
    >>> f('x', 1)
    'y'
    f('x', 1) == 'z'
    """
    found = prose_examples(doc, "f", ("a", "b"))
    assert [(e.args, e.expected, e.line) for e in found] == [
        (([[1, 2], [3]], 1), [(0, 0)], 2),
        (("x", 1), "y", 8),  # the later f('x', 1) == 'z' is a duplicate input: first one wins
    ]


UNTYPED = '''\
def collisions(n, word):
    """Count things.

    Examples:
    collisions(3, 'ab') == 9
    collisions(10, 'ba') ➞ 100
    For n = 2, word = "b" the output should be 4
    """
'''
GOOD = "def collisions(n, word):\n    return n * n\n"
WRONG = "def collisions(n, word):\n    return n + n\n"


def test_an_untyped_stub_with_prose_examples(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    stub = tmp_path / "collisions.py"
    stub.write_text(UNTYPED)
    problem = load_problem(stub)  # no test file, no doctest: the prose examples are the tests
    assert [t.origin for t in problem.visible_tests] == ["examples"] and problem.weak_tests
    source = problem.sandbox_test_files()["test_examples.py"]
    assert run_tests(source, GOOD, monkeypatch) == []
    assert run_tests(source, WRONG, monkeypatch) == ["test_example[5]", "test_example[6]"]

    drawn = draw_here(problem, n=20)
    assert drawn.origin == "examples"
    assert drawn.args[:3] == [(3, "ab"), (10, "ba"), (2, "b")]  # valid inputs, first
    for n, word in drawn.args:
        assert isinstance(n, int) and 1 <= n <= 20  # positive like the examples, near their scale
        assert isinstance(word, str) and set(word) <= {"a", "b"}
    assert len({n for n, _ in drawn.args}) > 5
    for n, word in timing_here(problem, k=3).args:
        assert 1 <= n <= 100 and len(word) >= 50  # ten times the examples' scale when timing


def test_typed_parameters_keep_negatives_but_follow_the_examples_scale(tmp_path: Path) -> None:
    stub = tmp_path / "fib.py"
    stub.write_text('def fib(n: int) -> int:\n    """\n    >>> fib(10)\n    55\n    """\n')
    drawn = draw_here(load_problem(stub), n=30)
    assert drawn.origin == "type hints" and drawn.args[0] == (10,)
    values = [n for (n,) in drawn.args]
    assert max(map(abs, values)) <= 20 and min(values) < 0  # fib(100) is no fair question


def run(verdict: Verdict, **tests: Status) -> RunResult:
    names = {f"tests/test_examples.py::{name}": status for name, status in tests.items()}
    outcomes = [TestOutcome(name=name, status=status) for name, status in names.items()]
    return RunResult(verdict=verdict, tests=outcomes, message="failed" * (verdict != "passed"))


P, F = Status.PASSED, Status.FAILED


def test_an_example_no_candidate_satisfies_is_set_aside() -> None:
    runs = {
        "a": run(Verdict.FAILED, one=P, wrong=F),
        "b": run(Verdict.FAILED, one=P, wrong=F),
        "c": run(Verdict.FAILED, one=F, wrong=F),
        "d": run(Verdict.PASSED, one=P),
    }
    judged = set_aside_unsatisfiable(runs, {"test_examples.py"})
    assert [cid for cid, r in judged.items() if r.passed] == ["a", "b", "d"]
    assert judged["a"].message == f"{SET_ASIDE}: wrong"
    assert judged["c"] == runs["c"]  # fails `one`, which others satisfy
    # Only prose examples are soft, and one candidate alone is no evidence against them.
    assert set_aside_unsatisfiable(runs, {"test_doctests.py"}) == runs
    assert not set_aside_unsatisfiable({"a": runs["a"]}, {"test_examples.py"})["a"].passed
    timeout = runs["a"].model_copy(deep=True)
    timeout.tests[1].cause = Verdict.TIMEOUT
    assert not set_aside_unsatisfiable({**runs, "a": timeout}, {"test_examples.py"})["a"].passed


def test_input_blocks_name_each_argument_on_its_own_line() -> None:
    doc = """
    Example 1:
        Input:
            grid : [[0,0,1,0], [1,1,1,1]]
            bucket_capacity : 2
        Output: 3
    """
    # The prose calls the parameter bucket_capacity; all arguments are named, so in order.
    assert parsed(doc, ("grid", "capacity")) == [(([[0, 0, 1, 0], [1, 1, 1, 1]], 2), 3)]


ASSERTING = '''\
def count(arr, k=0):
    """
    >>> count([]) == 0
    >>> count([1, 1]) == 2
    >>> xs = [5]
    >>> count(xs) == len(xs)
    >>> count([3])
    1
    """
'''


def test_doctests_written_as_assertions(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """``>>> f(x) == y`` with no output means "is True": with literals it is a (soft) call
    example, otherwise a doctest expecting True; real doctests stay doctests."""
    stub = tmp_path / "count.py"
    stub.write_text(ASSERTING)
    problem = load_problem(stub)
    files = problem.sandbox_test_files()
    assert [t.origin for t in problem.visible_tests] == ["doctest", "examples"]
    assert set(problem.example_args) == {"([],)", "([1, 1],)", "([3],)"}
    good = "def count(arr, k=0):\n    return len(arr)\n"
    constant = "def count(arr, k=0):\n    return 1\n"
    assert run_tests(files["test_doctests.py"], good, monkeypatch) == []
    assert run_tests(files["test_examples.py"], good, monkeypatch) == []
    assert run_tests(files["test_doctests.py"], constant, monkeypatch) == []  # 1 == len([5])
    assert run_tests(files["test_examples.py"], constant, monkeypatch) == [
        "test_example[3]",
        "test_example[4]",
    ]


PIECES = ["f(", ")", "(", "[", "]", "{", "}", "'", '"', "==", "=>", "➞", "->", " returns ", "=",
          "\n", " ", ",", "1", "-2", "3.50", "'ab'", "true", "None", ">>> ", "For a = ",
          " the output should be ", "Input:", "Output:", "a : ", "#", "\\", "\x00", "def f(",
          "g(", "f(*x)", "f(**k)", "(((((", "]]]]", "1e999", "-0.0"]  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(PIECES) | st.text(max_size=5), max_size=60))
def test_prose_parsing_never_fails_on_any_docstring(pieces: list[str]) -> None:
    for example in prose_examples("".join(pieces), "f", ("a", "b")):
        assert is_plain(example.args) and is_plain(example.expected)
        assert 1 <= len(example.args) <= 2


@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # "\\{" in a docstring: its problem
@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(PIECES) | st.text(max_size=5), max_size=40))
def test_any_docstring_loads_or_is_one_clear_error(pieces: list[str]) -> None:
    doc = "".join(pieces).replace('"""', "")
    try:
        problem = problem_from_stub(f'def f(a, b):\n    """{doc}"""\n', name="p", where="p.py")
    except BadInput:
        return
    for test in problem.visible_tests:
        ast.parse(test.source)  # every generated test file is valid Python


def test_prose_parsing_stays_fast_on_huge_docstrings() -> None:
    started = time.process_time()  # CPU seconds: the machine's load is not the check's
    prose_examples("f(" * 50_000 + "'unclosed" + " x" * 100_000, "f", ("a",))
    prose_examples("f([1] " + "+ [1] " * 20_000 + ") == 2\n" * 50, "f", ("a",))
    prose_examples("Input:\n  a : " + "1," * 20_000 + "\nOutput: 1", "f", ("a",))
    assert time.process_time() - started < 10  # bounded scans, not quadratic ones


def test_fixed_shape_tuples_keep_their_shape(tmp_path: Path) -> None:
    stub = tmp_path / "overlap.py"
    stub.write_text('def overlap(a, b):\n    """overlap((1, 2), (2, 3)) ==> 1"""\n')
    drawn = draw_here(load_problem(stub), n=20)
    assert drawn.origin == "examples" and len(drawn.args) == 20
    assert all(len(a) == 2 and len(b) == 2 for a, b in drawn.args)  # intervals stay intervals
