"""Inputs for differential testing: a list and a target that is often reachable.

Convention (see codegen.ranking.inputs): `inputs` is a hypothesis strategy of argument tuples;
`large_inputs`, optional, is the timing workload when a problem has no benchmark tests.
"""

from hypothesis import strategies as st


def _with_target(nums: list[int]) -> st.SearchStrategy[tuple[list[int], int]]:
    sums = [a + b for i, a in enumerate(nums) for b in nums[i + 1 :]]
    reachable = st.sampled_from(sums) if sums else st.integers(-100, 100)
    return st.tuples(st.just(nums), st.one_of(reachable, st.integers(-100, 100)))


inputs = st.lists(st.integers(-50, 50), max_size=12).flatmap(_with_target)
large_inputs = st.lists(st.integers(-1000, 1000), min_size=150, max_size=200).map(
    lambda nums: (nums, 5000)  # unreachable: every candidate scans the whole list
)
