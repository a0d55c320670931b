def count_vowels(text: str) -> int:  # codegen: solve
    """How many vowels (a, e, i, o, u, in either case) the text holds.

    >>> count_vowels("Hello, World!")
    3
    """
    raise NotImplementedError
