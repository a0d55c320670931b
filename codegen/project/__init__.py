"""Solving in a repository's context: the function's module, its package and the project.

find (the stubs a file marks, pure) and associate (a stub's doctests and test file → a
Problem), shared by the pre-commit hook, solve and optimise; git (the repository's top) →
target (``path.py::name`` → a Problem whose candidates run inside their module) → layout (the
project's root, import paths and the module's dotted name) → repomap (what the models are shown
of the module and the package, bounded) → dependencies (the project's requirements, read from
its files) → the project's sandbox image and snapshot (:mod:`sandbox.project`).
"""

DEFAULT_CONTEXT_TOKENS = 1500  # what the models see of a function's module and package, at most


def is_function_spec(spec: str) -> bool:
    """``path.py::name``, as opposed to a problem folder, stub or record."""
    path, sep, name = spec.rpartition("::")
    return bool(sep) and path.endswith(".py") and name.isidentifier()
