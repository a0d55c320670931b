"""Code extraction from model replies: the shapes models really answer in."""

from __future__ import annotations

import ast

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from codegen.generation.extract import ExtractionError, extract_code

STUB = '''def add(a: int, b: int) -> int:
    """Return the sum of a and b."""
'''
ADD = "def add(a: int, b: int) -> int:\n    return a + b\n"


def _run(code: str, *args: int) -> int:
    namespace: dict[str, object] = {}
    exec(compile(code, "<candidate>", "exec"), namespace)
    return namespace["add"](*args)  # type: ignore[operator]


def test_single_fenced_block() -> None:
    code = extract_code(f"```python\n{ADD}```", "add", STUB)
    assert _run(code, 2, 3) == 5


def test_prose_around_fenced_block() -> None:
    reply = f"Sure! Here is the function:\n\n```py\n{ADD}```\n\nIt adds the two numbers. Cheers."
    code = extract_code(reply, "add", STUB)
    assert "Sure" not in code and "Cheers" not in code
    assert _run(code, 1, 1) == 2


def test_unfenced_reply_is_taken_whole() -> None:
    assert _run(extract_code(ADD, "add", STUB), 4, 5) == 9


def test_unfenced_code_inside_prose() -> None:
    reply = (
        "Here is my solution.\n"
        "import operator\n"
        "def add(a, b):\n"
        "    return operator.add(a, b)\n"
        "This uses the operator module; it is O(1).\n"
    )
    code = extract_code(reply, "add", STUB)
    assert code.startswith("import operator")
    assert "solution" not in code and "O(1)" not in code
    assert _run(code, 3, 4) == 7


def test_helpers_in_separate_blocks_are_joined_in_order() -> None:
    reply = (
        "First a helper:\n```python\nimport math\n\ndef _twice(x):\n    return 2 * x\n```\n"
        "Then the function:\n```python\ndef add(a, b):\n    return _twice(a + b) // 2\n```\n"
        "Usage:\n```python\nprint(add(1, 2))\nassert add(2, 2) == 4\n```\n"
    )
    code = extract_code(reply, "add", STUB)
    assert code.index("_twice(x)") < code.index("def add")
    assert "print(" not in code and "assert" not in code
    assert _run(code, 5, 6) == 11


def test_restated_stub_then_answer_takes_the_answer() -> None:
    reply = (
        f"You asked for:\n```python\n{STUB}    ...\n```\nMy implementation:\n"
        f"```python\n{STUB}    return a + b\n```"
    )
    code = extract_code(reply, "add", STUB)
    assert code.count("def add") == 1
    assert _run(code, 7, 8) == 15


def test_answer_then_restated_stub_still_takes_the_answer() -> None:
    reply = f"```python\n{ADD}```\nThe stub was:\n```python\n{STUB}    pass\n```"
    assert _run(extract_code(reply, "add", STUB), 1, 2) == 3


def test_later_version_wins_over_earlier_one() -> None:
    reply = (
        "A slow version:\n```python\ndef add(a, b):\n    return sum([a, b])\n```\n"
        "A faster one:\n```python\ndef add(a, b):\n    return a + b\n```\n"
    )
    code = extract_code(reply, "add", STUB)
    assert "sum(" not in code and code.count("def add") == 1


def test_non_python_blocks_are_ignored() -> None:
    reply = f"Run:\n```bash\npip install nothing\n```\n```python\n{ADD}```\n```text\n5\n```"
    code = extract_code(reply, "add", STUB)
    assert "pip" not in code and _run(code, 2, 2) == 4


def test_main_guard_and_top_level_calls_are_dropped() -> None:
    reply = f'```python\n{ADD}\nprint(add(1, 2))\nif __name__ == "__main__":\n    add(3, 4)\n```'
    code = extract_code(reply, "add", STUB)
    assert "__main__" not in code and "print" not in code
    assert ast.parse(code).body[0].name == "add"  # type: ignore[attr-defined]


def test_truncated_reply_with_unclosed_fence() -> None:
    code = extract_code(f"Here:\n```python\n{ADD}", "add", STUB)
    assert _run(code, 1, 2) == 3


def test_body_only_reply_is_grafted_onto_the_stub() -> None:
    code = extract_code("    return a + b\n", "add", STUB)
    assert code.startswith("def add(a: int, b: int) -> int:")
    assert _run(code, 10, 5) == 15


def test_fenced_body_only_reply_is_grafted_too() -> None:
    code = extract_code("```python\nreturn b + a\n```", "add", STUB)
    assert _run(code, 10, 5) == 15


def test_think_sections_are_ignored() -> None:
    reply = "<think>def add(a, b): return 0</think>\n" + f"```python\n{ADD}```"
    assert _run(extract_code(reply, "add", STUB), 2, 2) == 4


@pytest.mark.parametrize(
    ("reply", "reason"),
    [
        ("", "empty reply"),
        ("   \n", "empty reply"),
        (None, "empty reply"),
        ("I cannot help with that.", "no Python code"),
        ("```python\ndef add(a, b)\n    return a +\n```", "does not parse"),
        ("```python\ndef sub(a, b):\n    return a - b\n```", "does not define add"),
        (f"```python\n{STUB}    pass\n```", "only restates the stub"),
        (f"```python\n{STUB}    raise NotImplementedError\n```", "only restates the stub"),
    ],
)
def test_rejections_say_why(reply: str | None, reason: str) -> None:
    with pytest.raises(ExtractionError, match=reason):
        extract_code(reply, "add", STUB)


_names = st.from_regex(r"[a-z][a-z0-9_]{0,8}", fullmatch=True).filter(
    lambda n: n not in {"def", "if", "in", "is", "or", "and", "not", "for", "as", "return"}
)
_prose = st.text(
    alphabet=st.sampled_from(list("abcdefghij klmnop,.!?:;'\"()")), min_size=0, max_size=60
).map(lambda s: s.replace("```", ""))


@settings(max_examples=60, deadline=None)
@given(name=_names, const=st.integers(-1000, 1000), before=_prose, after=_prose)
def test_fenced_code_survives_any_prose(name: str, const: int, before: str, after: str) -> None:
    source = f"def {name}(x):\n    y = x + {const}\n    return y\n"
    reply = f"{before}\n```python\n{source}```\n{after}"
    code = extract_code(reply, name)
    assert ast.dump(ast.parse(code)) == ast.dump(ast.parse(source))


@settings(max_examples=40, deadline=None)
@given(
    name=_names,
    const=st.integers(0, 99),
    before=_prose.filter(lambda s: "def" not in s),
)
def test_unfenced_code_after_prose_line(name: str, const: int, before: str) -> None:
    source = f"def {name}(x):\n    return x * {const}\n"
    reply = f"{before.strip() or 'Answer'}\n{source}"
    code = extract_code(reply, name)
    assert ast.dump(ast.parse(code)) == ast.dump(ast.parse(source))


def test_a_reply_cut_short_in_its_tests_keeps_the_whole_function() -> None:
    reply = (
        "```python\nimport math\n\ndef add(a, b):\n    return a + b\n\n"
        "# Test cases\ndef test_add():\n    assert add(1, 2) == 3\n    assert add(math.pi, [1"
    )
    code = extract_code(reply, "add", STUB)
    assert code == "def add(a, b):\n    return a + b\n"
    with pytest.raises(ExtractionError, match="does not parse"):
        extract_code("```python\ndef add(a, b):\n    return (a +\n", "add")
