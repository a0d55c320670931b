"""The tester's reply read as test cases: only ``assert f(<literals>) == <literal>`` lines."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from codegen.generation.test_cases import MAX_CASES, parse_test_cases

REPLY = """Here are the tests:
```python
assert add(1, 2) == 3
assert add(a=-1, b=1) == 0
assert 7 == add(3, 4)
assert add(0, 0) is None
assert add(1, 2) == 3
assert add(x, 2) == 4
assert add(1, 2) == 1 + 2
assert add(1, 2) != 4
assert add(1, 2) == 3 == 3
assert other(1, 2) == 3
assert add(1,
```
"""


def cases(reply: str, params: tuple[str, ...] | None = ("a", "b")) -> list[tuple[Any, Any]]:
    return [(case.args, case.expected) for case in parse_test_cases(reply, "add", params)]


def test_assert_lines_become_cases_and_the_rest_is_skipped() -> None:
    assert cases(REPLY) == [((1, 2), 3), ((-1, 1), 0), ((3, 4), 7), ((0, 0), None)]


def test_unknown_parameters_take_positional_arguments_only() -> None:
    assert cases(REPLY, None) == [((1, 2), 3), ((3, 4), 7), ((0, 0), None)]


def test_a_looping_tester_is_cut() -> None:
    reply = "\n".join(f"assert add({i}, 0) == {i}" for i in range(1000))
    assert len(cases(reply)) == MAX_CASES


PLAIN = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=6),
    lambda inner: st.lists(inner, max_size=3) | st.tuples(inner, inner),
    max_leaves=6,
)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(PLAIN, PLAIN, PLAIN), min_size=1, max_size=5))
def test_any_literal_case_reads_back(written: list[tuple[Any, Any, Any]]) -> None:
    reply = "\n".join(f"assert add({a!r}, {b!r}) == {want!r}" for a, b, want in written)
    unique = list(dict.fromkeys(repr(((a, b), w)) for a, b, w in written))
    assert [repr(case) for case in cases(reply)] == unique


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=300))
def test_any_reply_parses_or_gives_nothing(reply: str) -> None:
    for case in parse_test_cases(reply, "add", ("a", "b")):
        assert 1 <= len(case.args) <= 2
