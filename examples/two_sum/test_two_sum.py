from solution import two_sum


def test_examples():
    assert two_sum([2, 7, 11, 15], 9) == [0, 1]
    assert two_sum([3, 3], 6) == [0, 1]


def test_element_does_not_pair_with_itself():
    assert two_sum([3, 2, 4], 6) == [1, 2]


def test_no_pair():
    assert two_sum([1, 2, 3], 100) == []
    assert two_sum([], 0) == []


def test_earliest_pair_wins():
    assert two_sum([1, 4, 2, 3, 0, 5], 5) == [0, 1]
    assert two_sum([5, 0, 1, 5], 10) == [0, 3]
    assert two_sum([-1, 7, -3, 4], 4) == [1, 2]


def test_large_input(benchmark):
    # The only pair is the last two elements, so a quadratic scan visits every pair.
    nums = list(range(2_000))
    assert benchmark(two_sum, nums, 3_997) == [1_998, 1_999]
