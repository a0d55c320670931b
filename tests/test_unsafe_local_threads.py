"""The in-process backend shares its interpreter with the caller: pytest rewrites the tests'
asserts in a worker thread while the caller's event loop parses model replies. CPython 3.11
can then fail one of them with "SystemError: AST constructor recursion depth mismatch"
(CPython gh-95185, gh-106905; pytest-dev/pytest#10763), which made
`tests/test_flows_without_docker.py` fail about once in fifteen runs; while the backend is
loaded, parsing takes one lock."""

from __future__ import annotations

import ast
import sys
from concurrent.futures import ThreadPoolExecutor

import pytest


@pytest.mark.skipif(sys.version_info >= (3, 13), reason="the converter's count is per call")
def test_parsing_is_serialised_once_the_in_process_backend_is_loaded() -> None:
    from _pytest.assertion import rewrite

    import sandbox.unsafe_jobs  # noqa: F401  (installs the lock)

    assert getattr(ast.parse, "serialised", False)
    assert getattr(rewrite._rewrite_test, "serialised", False)

    def parse(depth: int) -> str:
        return ast.dump(ast.parse("x = " + "(" * depth + "1" + ")" * depth + "\n"))

    with ThreadPoolExecutor(4) as pool:
        dumps = list(pool.map(parse, [40 + i % 20 for i in range(400)]))
    assert all("Constant(value=1)" in dump for dump in dumps)
