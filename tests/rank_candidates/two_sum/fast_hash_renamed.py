def two_sum(nums: list[int], target: int) -> list[int]:
    # fast_hash.py with other names: the same algorithm, so its timing must tie with it.
    seen_at: dict[int, int] = {}
    for right, number in enumerate(nums):
        left = seen_at.get(target - number)
        if left is not None:
            return [left, right]
        seen_at.setdefault(number, right)
    return []
