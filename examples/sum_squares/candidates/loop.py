def sum_squares(nums: list[int]) -> int:
    total = 0
    for x in nums:
        total += x**2
    return total
