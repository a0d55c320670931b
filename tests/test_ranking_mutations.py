"""Inputs mutated from the docstring's examples: near misses, type-aware, within what the text
allows, deterministic for a seed."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from codegen.problems.model import is_plain
from codegen.ranking.mutations import DEFAULT_LIMIT, mutate_examples, read_hints

small_ints = st.integers(-50, 50)
scalars = st.one_of(small_ints, st.booleans(), st.text("abc xyZ019", max_size=6))
values = st.one_of(
    scalars,
    st.floats(-100, 100, allow_nan=False),
    st.lists(small_ints, max_size=6),
    st.lists(st.text("ab", max_size=3), max_size=4),
    st.tuples(small_ints, small_ints),
    st.dictionaries(st.text("kq", min_size=1, max_size=2), small_ints, max_size=3),
)


@st.composite
def example_sets(draw: st.DrawFn) -> list[tuple[Any, ...]]:
    """A few examples of one function: the same arity, each position one kind of value."""
    arity = draw(st.integers(1, 3))
    kinds = [draw(st.sampled_from(list(range(6)))) for _ in range(arity)]
    pick = [
        small_ints,
        st.text("abc xyZ019", max_size=6),
        st.lists(small_ints, max_size=6),
        st.tuples(small_ints, small_ints),
        st.floats(-100, 100, allow_nan=False),
        st.dictionaries(st.text("kq", min_size=1, max_size=2), small_ints, max_size=3),
    ]
    count = draw(st.integers(1, 4))
    return [tuple(draw(pick[k]) for k in kinds) for _ in range(count)]


texts = st.sampled_from(
    [
        "",
        "Return the sum of the digits of n.",
        "Given a non-empty list of positive integers, 1 <= n <= 20.",
        "Numbers can be negative. The list may be empty.",
        "The length of the array will be in the range of [1, 5].",
        "Return True if the string is in upper case.",
    ]
)


@settings(max_examples=150, deadline=None)
@given(example_sets(), texts, st.integers(0, 3), st.integers(0, 30))
def test_each_mutation_is_an_example_with_one_argument_edited_in_kind(
    examples: list[tuple[Any, ...]], text: str, seed: int, limit: int
) -> None:
    mutated = mutate_examples(examples, text, seed=seed, limit=limit)

    assert mutated == mutate_examples(examples, text, seed=seed, limit=limit)  # deterministic
    assert len(mutated) <= limit
    assert len({repr(m) for m in mutated}) == len(mutated)  # distinct
    assert not {repr(m) for m in mutated} & {repr(e) for e in examples}  # never an example
    for args in mutated:
        assert is_plain(args)
        origins = [e for e in examples if len(e) == len(args)]
        assert any(
            sum(a != b or type(a) is not type(b) for a, b in zip(e, args, strict=True)) == 1
            and all(type(a) is type(b) for a, b in zip(e, args, strict=True))
            for e in origins
        ), f"{args} is no example with one argument edited in kind: {examples}"


@settings(max_examples=150, deadline=None)
@given(example_sets(), st.integers(0, 3))
def test_mutations_stay_near_the_examples_and_keep_their_sign(
    examples: list[tuple[Any, ...]], seed: int
) -> None:
    mutated = mutate_examples(examples, "Return the result.", seed=seed, limit=50)
    for args in mutated:
        for position, value in enumerate(args):
            column = [e[position] for e in examples if len(e) == len(args)]
            if isinstance(value, int) and not isinstance(value, bool):
                seen = [v for v in column if isinstance(v, int)]
                assert abs(value) <= max(max(abs(v) for v in seen) + 2, 2)
                assert value >= 0 or min(seen) < 0  # no negatives unless an example has one
                assert value >= min(seen) - 1  # a number goes at most one below the examples
            if isinstance(value, str | list | dict):
                longest = max(len(v) for v in column if isinstance(v, type(value)))
                assert len(value) <= longest + 2
                if all(len(v) > 0 for v in column if isinstance(v, type(value))):
                    assert len(value) > 0  # not empty unless an example is or the text says so
            if isinstance(value, tuple):
                assert {len(value)} == {len(v) for v in column}  # a fixed shape stays fixed


def test_the_bounds_the_text_names_are_used_and_kept() -> None:
    mutated = mutate_examples([(5,), (12,)], "Given n with 1 <= n <= 13, return ...", limit=50)
    numbers = sorted(args[0] for args in mutated)
    assert 1 in numbers and 13 in numbers  # the named boundaries themselves
    assert all(1 <= n <= 13 for n in numbers)  # and never beyond them
    lengths = mutate_examples(
        [([3, 1, 2],)], "The length of the array will be in the range of [2, 4].", limit=50
    )
    assert {len(args[0]) for args in lengths} <= {2, 3, 4}


def test_digits_sign_and_case_are_mutated_when_the_text_speaks_of_them() -> None:
    digits = {a[0] for a in mutate_examples([(123,)], "Sum of the digits of n.", limit=50)}
    assert {1233, 12, 321} <= digits  # a digit appended, dropped, the digits reversed
    assert not any(n < 0 for n in digits)
    signed = {a[0] for a in mutate_examples([(123,)], "n may be negative.", limit=50)}
    assert -123 in signed
    cased = {a[0] for a in mutate_examples([("Hello",)], "Count upper case letters.", limit=50)}
    assert {"HELLO", "hello", "hELLO"} <= cased


def test_a_repeated_value_appears_where_first_and_smallest_rules_bite() -> None:
    text = "Return [i, j] with the smallest j, then the smallest i."
    mutated = mutate_examples([([2, 7, 11, 15], 9), ([3, 3], 6)], text, limit=DEFAULT_LIMIT)
    lists = [args[0] for args in mutated]
    assert any(len(set(nums)) < len(nums) and nums != [3, 3] for nums in lists)
    assert any(target != 9 and target != 6 for _, target in mutated)  # the target edited too


def test_hints_read_bounds_words_and_lengths_apart() -> None:
    hints = read_hints("1 <= len(arr) <= 100\n-5 < x < 5\nk >= 2\nnon-negative, not empty")
    assert [(r.low, r.high) for r in hints.lengths] == [(1, 100)]
    assert (-4, 4) in [(r.low, r.high) for r in hints.values]
    assert (2, None) in [(r.low, r.high) for r in hints.values]
    assert hints.non_negative and not hints.negatives and hints.empty
    assert read_hints("Numbers may be negative").negatives


def test_no_examples_no_mutations() -> None:
    assert mutate_examples([], "1 <= n <= 5") == []
    assert mutate_examples([(1,)], "", limit=0) == []


def test_hostile_text_and_values_are_read_in_bounded_time() -> None:
    text = "a" * 200_000 + " 1 <= n <= 5 " + "(" * 50_000  # no backtracking through all that
    assert read_hints(text).values == ()  # past the characters read for hints
    huge = [(1e308, "x" * 3, [10**300])]
    for args in mutate_examples(huge, "", limit=50):
        assert is_plain(args) and all(a != float("inf") for a in args if isinstance(a, float))
