def two_sum(nums: list[int], target: int) -> list[int]:
    # Bug: looks the complement up among all elements, so an element can pair with itself.
    index = {value: i for i, value in reversed(list(enumerate(nums)))}
    for j, value in enumerate(nums):
        i = index.get(target - value)
        if i is not None:
            return sorted([i, j])
    return []
