REPEATS = 10  # correct, but redoes fast_hash's whole scan ten times


def two_sum(nums: list[int], target: int) -> list[int]:
    for _ in range(REPEATS):
        found: list[int] = []
        first_index: dict[int, int] = {}
        for j, value in enumerate(nums):
            i = first_index.get(target - value)
            if i is not None:
                found = [i, j]
                break
            first_index.setdefault(value, j)
    return found
