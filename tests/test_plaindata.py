"""Values from a candidate, as the harness reads them: builtins only, bounded when walked as a
tree, and digested the same way in every container (sandbox/harness/plaindata.py, pure)."""

from __future__ import annotations

import pickle
import time

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sandbox.harness.plaindata import (
    MAX_DEPTH,
    NotPlainData,
    canonical,
    check_size,
    combine,
    digest,
    loads_plain,
)


def nested(depth: int) -> list:
    value: list = []
    for _ in range(depth):
        value = [value]
    return value


def test_depth_past_the_limit_is_refused_whatever_the_recursion_limit() -> None:
    check_size(nested(MAX_DEPTH - 1))
    with pytest.raises(NotPlainData, match="deeply"):
        check_size(nested(5000))


def test_shared_references_cannot_describe_a_huge_tree() -> None:
    value: list = [1, 1]
    for _ in range(60):
        value = [value, value]
    data = pickle.dumps(value)
    assert len(data) < 2000
    started = time.process_time()  # CPU, not wall: the machine's load is not the check's
    with pytest.raises(NotPlainData, match="too large"):
        loads_plain(data)
    assert time.process_time() - started < 1


def test_repeated_long_strings_count_once_per_reference() -> None:
    with pytest.raises(NotPlainData, match="too large"):
        check_size(["x" * 5000] * 100_000)  # a few hundred kB of pickle, 500 MB as text


def test_a_million_numbers_is_fine_and_quick() -> None:
    started = time.process_time()  # CPU, not wall: the machine's load is not the check's
    check_size(list(range(1_000_000)))
    check_size([0.5] * 1_000_000)
    assert time.process_time() - started < 1


class Anything:
    def __eq__(self, other: object) -> bool:
        return True


def test_the_unpickler_builds_builtins_only() -> None:
    with pytest.raises(pickle.UnpicklingError):
        loads_plain(pickle.dumps(Anything()))


def test_a_value_that_holds_itself_is_refused() -> None:
    loop: list = [1]
    loop.append(loop)
    with pytest.raises(NotPlainData, match="itself"):
        check_size(loop)
    shared = [1, 2]
    check_size([shared, shared, (shared, {"k": shared})])  # shared, not cyclic: fine


def test_digests_ignore_set_and_dict_order_and_loose_ones_float_noise() -> None:
    assert digest({"b", "a", "c"}) == digest({"c", "a", "b"})
    assert digest({1: "x", 2: "y"}) == digest({2: "y", 1: "x"})
    assert digest(0.1 + 0.2) != digest(0.3)
    assert digest(0.1 + 0.2, loose=True) == digest(0.3, loose=True)
    assert digest([1, 2]) != digest((1, 2))  # a tuple is not a list
    assert digest(True) != digest(1)
    assert combine(["a", "b"]) != combine(["b", "a"])


def test_values_that_are_not_plain_data_are_refused_not_stood_in_for() -> None:
    with pytest.raises(NotPlainData):
        canonical(object())
    with pytest.raises(NotPlainData):
        canonical(nested(MAX_DEPTH + 5))


plain = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text()
    | st.binary(),
    lambda inner: st.lists(inner, max_size=4) | st.tuples(inner, inner)
    | st.dictionaries(st.text(max_size=3), inner, max_size=3)
    | st.frozensets(st.integers(), max_size=3),
    max_leaves=20,
)  # fmt: skip


@given(plain)
def test_any_plain_value_round_trips_and_digests_alike(value: object) -> None:
    again = loads_plain(pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL))
    assert digest(again) == digest(value)
    assert digest(again, loose=True) == digest(value, loose=True)
