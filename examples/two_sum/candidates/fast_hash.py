def two_sum(nums: list[int], target: int) -> list[int]:
    first_index: dict[int, int] = {}
    for j, value in enumerate(nums):
        i = first_index.get(target - value)
        if i is not None:
            return [i, j]
        first_index.setdefault(value, j)
    return []
