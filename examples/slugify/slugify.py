def slugify(title: str) -> str:  # codegen: solve
    """Lowercase words joined by dashes.

    >>> slugify("Hello, World!")
    'hello-world'
    """
    raise NotImplementedError
