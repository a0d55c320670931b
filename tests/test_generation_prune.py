"""The returned snippet is what the function needs: reachable code only, no undefined names."""

from __future__ import annotations

import ast

import pytest

from codegen.generation.extract import ExtractionError, extract_code
from codegen.generation.prune import UndefinedNames, prune, undefined_names

# The winner `codegen solve` once printed: the model's copy of the tests came along.
PADDED = '''import heapq
import random
from functools import lru_cache

LIMIT = 10


def _smallest(items, k):
    return heapq.nsmallest(k, items)


@lru_cache(maxsize=None)
def _cap():
    return LIMIT


def top_k(items: list[int], k: int) -> list[int]:
    """The k smallest."""
    return _smallest(items, min(k, _cap()))


def _perf_case(n):
    return [random.random() for _ in range(n)], _reference(n)


def test_perf_top_k(benchmark):
    items, want = _perf_case(1000)
    assert benchmark(top_k, items, 3) == want
'''


def names(code: str) -> set[str]:
    tree = ast.parse(code)
    bound = set()
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.ClassDef):
            bound.add(node.name)
        elif isinstance(node, ast.Import | ast.ImportFrom):
            bound.update(a.asname or a.name for a in node.names)
        elif isinstance(node, ast.Assign):
            bound.update(t.id for t in node.targets if isinstance(t, ast.Name))
    return bound


def test_only_what_the_entry_point_reaches_is_kept() -> None:
    code = prune(PADDED, "top_k")
    assert names(code) == {"heapq", "lru_cache", "LIMIT", "_smallest", "_cap", "top_k"}
    assert undefined_names(code) == []
    assert "@lru_cache(maxsize=None)\ndef _cap():" in code  # the decorator goes with its def
    assert prune(code, "top_k") == code  # idempotent
    namespace: dict = {}
    exec(compile(code, "<pruned>", "exec"), namespace)
    assert namespace["top_k"]([5, 1, 4, 2], 2) == [1, 2]


def test_extraction_returns_the_pruned_candidate() -> None:
    reply = f"Here you go:\n```python\n{PADDED}```\n"
    code = extract_code(reply, "top_k")
    assert "test_perf" not in code and "_perf_case" not in code and "random" not in code


def test_an_import_the_stub_makes_is_made_when_the_model_forgot_it() -> None:
    stub = (
        "from typing import List, Tuple\nimport math\n\n\ndef f(xs: List[int]) -> int:\n    ...\n"
    )
    code = prune("def f(xs: List[int]) -> int:\n    return len(xs)\n", "f", stub)
    assert code.startswith("from typing import List\n")
    assert undefined_names(code) == []


def test_an_undefined_name_rejects_the_candidate_with_the_name() -> None:
    with pytest.raises(UndefinedNames, match=r"uses undefined name\(s\): _reference, helper"):
        prune("def f(x):\n    return helper(x) + _reference(x)\n", "f")
    reply = "```python\ndef f(x):\n    return helper(x)\n```"
    with pytest.raises(ExtractionError, match="helper"):
        extract_code(reply, "f")


@pytest.mark.parametrize(
    ("source", "kept"),
    [
        # a module-level cache reached through `global`
        ("cache = {}\nunused = 1\n\ndef f(x):\n    global cache\n    return cache.get(x)\n",
         {"cache", "f"}),
        # a class named only in a string annotation, and a method's helper
        ("def g():\n    return 2\n\nclass Box:\n    def get(self):\n        return g()\n\n"
         "def f(x) -> 'Box':\n    return Box()\n", {"g", "Box", "f"}),
        # a try/except import, both branches bind the name
        ("try:\n    from math import isqrt\nexcept ImportError:\n    isqrt = None\n\n"
         "def f(x):\n    return isqrt(x)\n", {"f"}),
        # the entry point bound by assignment to another function
        ("def _impl(x):\n    return x\n\nf = _impl\n", {"_impl", "f"}),
    ],
)  # fmt: skip
def test_reachability_follows_every_way_of_naming(source: str, kept: set[str]) -> None:
    code = prune(source, "f")
    assert names(code) == kept
    assert undefined_names(code) == []
    if "isqrt" in source:
        assert "from math import isqrt" in code


def test_star_and_future_imports_stay() -> None:
    source = (
        "from __future__ import annotations\nfrom math import *\n\ndef f(x):\n    return sqrt(x)\n"
    )
    assert prune(source, "f") == source
