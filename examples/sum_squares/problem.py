def sum_squares(nums: list[int]) -> int:
    """Return the sum of the squares of the numbers in ``nums``.

    >>> sum_squares([1, 2, 3])
    14
    >>> sum_squares([])
    0
    >>> sum_squares([10])
    100
    """
    ...
