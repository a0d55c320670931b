def two_sum(nums: list[int], target: int) -> list[int]:
    """Return indices [i, j], i < j, of two numbers in ``nums`` that add up to ``target``.

    When several pairs qualify, return the one with the smallest j, and for that j the
    smallest i. Return [] when no pair qualifies. An element cannot pair with itself.

    >>> two_sum([2, 7, 11, 15], 9)
    [0, 1]
    >>> two_sum([3, 3], 6)
    [0, 1]
    >>> two_sum([1, 2], 7)
    []
    """
    raise NotImplementedError
