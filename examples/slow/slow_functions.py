"""Correct but slow functions, for `codegen optimise` (see the README's Optimising section)."""


def has_duplicates(nums: list[int]) -> bool:
    """True when some value occurs more than once.

    >>> has_duplicates([1, 2, 1])
    True
    >>> has_duplicates([3, 1, 2])
    False
    """
    for i in range(len(nums)):
        for j in range(i):
            if nums[i] == nums[j]:
                return True
    return False


def common_elements(a: list[int], b: list[int]) -> list[int]:
    """The elements of a that also occur in b, in a's order, repeats kept.

    >>> common_elements([1, 2, 3, 2], [2, 3, 4])
    [2, 3, 2]
    >>> common_elements([1], [])
    []
    """
    return [x for x in a if x in b]


def count_pairs(nums: list[int], target: int) -> int:
    """How many index pairs i < j have nums[i] + nums[j] == target.

    >>> count_pairs([1, 2, 3, 4, 3], 6)
    2
    >>> count_pairs([1, 1, 1], 2)
    3
    """
    count = 0
    for i in range(len(nums)):
        for j in range(i + 1, len(nums)):
            if nums[i] + nums[j] == target:
                count += 1
    return count


def first_unique(text: str) -> int:
    """The index of the first character that occurs once in text, or -1.

    >>> first_unique("leetcode")
    0
    >>> first_unique("aabb")
    -1
    """
    for i, char in enumerate(text):
        if text.count(char) == 1:
            return i
    return -1
