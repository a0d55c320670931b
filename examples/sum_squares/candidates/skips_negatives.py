def sum_squares(nums: list[int]) -> int:
    # Bug: only positive numbers are squared; the doctests never show a negative number.
    return sum(x * x for x in nums if x > 0)
