def sum_squares(nums: list[int]) -> int:
    return sum(x * x for x in nums)
