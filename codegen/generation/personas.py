"""Every prompt variant ("persona") in one place: the only module that holds prompt wording.

A persona is one instruction that steers a model towards a different kind of candidate, so that
several samples of one model are not all the same obvious solution. The *tester* is not a
persona: it writes test cases, not code (CodeT's dual execution agreement).
"""

from __future__ import annotations

from types import MappingProxyType

SYSTEM = (
    "You are an expert Python programmer. You complete the function the user gives you. "
    "Answer with one ```python fenced block holding the complete function (its signature, "
    "and any imports or helper functions it needs). Keep the name and parameters exactly as "
    "given. The docstring's examples are exact: the function must return exactly what they "
    "show, character for character, and every rule the docstring states. Do not include "
    "tests, examples or a __main__ block."
)

PERSONAS: MappingProxyType[str, str] = MappingProxyType(
    {
        "simplest": "Write the simplest correct code: clear, short and obviously right.",
        "fastest": (
            "Write the fastest correct code: choose the algorithm with the best time "
            "complexity, avoid needless copies and repeated work."
        ),
        "different": (
            "Solve it with a different approach from the obvious one (another algorithm or "
            "data structure), still correct on every input."
        ),
        "careful": (
            "Write defensive, correct code: think about empty inputs, duplicates, negative "
            "numbers and other edge cases the docstring implies."
        ),
    }
)

TASK = "Complete this Python function:\n\n```python\n{stub}\n```"
VISIBLE_TESTS = "It must pass these tests:\n\n```python\n{tests}\n```"
FEEDBACK = (
    "A previous attempt failed.\n\nPrevious code:\n\n```python\n{code}\n```\n\n"
    "Test output:\n\n```\n{output}\n```\n\nFix the problem and give the complete function again."
)
ENTRY_POINT = "The function must be named `{entry_point}`."
CONTEXT = (
    "It lives in a module, and your function replaces its body there: what the module and its "
    "package define (below, as signatures) is in scope. Reuse it instead of re-implementing "
    "it, and do not repeat those definitions in your answer.\n\n```python\n{context}\n```"
)
OPTIMISE = (
    "This function is correct, and too slow:\n\n```python\n{code}\n```\n\n"
    "Where its time goes (line profile on large inputs):\n\n```\n{profile}\n```\n\n"
    "Measured growth of its running time with the input size: {growth}.\n\n"
    "Write a faster version with exactly the same behaviour on every input: the same results, "
    "of the same types; the same exceptions; the same changes, or none, to its arguments. "
    "Prefer a better algorithm or data structure to micro-optimisations. If it cannot be made "
    "faster, give it back unchanged."
)

TESTER_SYSTEM = (
    "You are an expert Python tester. From a function's description you write test cases that "
    "check what the description says. You never write the function itself."
)
TESTER_TASK = (
    "Here is a Python function still to be written:\n\n```python\n{stub}\n```\n\n"
    "Write {count} different test cases for `{entry_point}`: typical inputs first, then edge "
    "cases the description implies. Write each on one line as\n"
    "`assert {entry_point}(<arguments>) == <expected value>`\n"
    "with literal arguments and a literal expected value (no variables, no helper calls). "
    "Work out each expected value carefully from the description. Answer with one ```python "
    "fenced block of these assert lines only."
)
