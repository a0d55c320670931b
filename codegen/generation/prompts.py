"""Turn a task and a persona (or the tester) into chat messages. Pure: the wording lives in
`personas`."""

from __future__ import annotations

from codegen.generation import personas
from codegen.generation.types import GenerationTask


def build_messages(task: GenerationTask, persona: str) -> list[dict[str, str]]:
    """System message = shared rules + persona; user message = the stub (or, to optimise, the
    current version with its profile and growth), tests, feedback."""
    system = f"{personas.SYSTEM}\n\n{personas.PERSONAS[persona]}"
    if task.optimise is not None:
        brief = task.optimise
        first = personas.OPTIMISE.format(
            code=brief.code.strip("\n"),
            profile=brief.profile.strip("\n") or "not available",
            growth=brief.growth or "not measured",
        )
    else:
        first = personas.TASK.format(stub=task.stub.strip("\n"))
    parts = [first]
    if task.context and task.context.strip():
        parts.append(personas.CONTEXT.format(context=task.context.strip("\n")))
    parts.append(personas.ENTRY_POINT.format(entry_point=task.entry_point))
    if task.visible_tests and task.visible_tests.strip():
        parts.append(personas.VISIBLE_TESTS.format(tests=task.visible_tests.strip("\n")))
    if task.feedback is not None:
        parts.append(
            personas.FEEDBACK.format(
                code=task.feedback.code.strip("\n"), output=task.feedback.test_output.strip("\n")
            )
        )
    return [{"role": "system", "content": system}, {"role": "user", "content": "\n\n".join(parts)}]


# Where a reply that should hold only code has moved on to tests, examples or a demo: each at
# the start of a line, so never inside the function. A reply is ended there (for the embedded
# models, whose tokens are their time); the fence left open is read as code all the same.
# Four at most: litellm sends no more to an OpenAI-style server.
CODE_STOPS = ("\n# Test", "\n# Example", "\nif __name__", "\nprint(")

TEST_CASES = 10  # asked of each tester; CodeT samples many more, but from a far larger model


def build_test_messages(task: GenerationTask, count: int = TEST_CASES) -> list[dict[str, str]]:
    """The tester's request: test cases for the stub, as assert lines (never the solution, and
    never the visible tests, which it would copy)."""
    user = personas.TESTER_TASK.format(
        stub=task.stub.strip("\n"), entry_point=task.entry_point, count=count
    )
    return [
        {"role": "system", "content": personas.TESTER_SYSTEM},
        {"role": "user", "content": user},
    ]
