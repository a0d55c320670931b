"""Is a faster version the same function? Every observable behaviour, input by input. Pure.

Two outcomes of one input are the same when both return and their answer digests are equal (the
sandbox's digest covers the value, exactly, with its type, *and* every change the call made to
its arguments), or when both raise the same exception type. A float computed in another order
is another answer here: an optimisation must not change what the caller sees, not even in the
last digit. An input on which the reference itself hits a limit says nothing and is skipped; an
answer that hits a limit where the reference returned is a difference.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pydantic import BaseModel

from codegen.ranking.clusters import behaviour_key, describe, format_call
from sandbox.models import CallOutcome

SAME_VALUE = "leaves its arguments changed differently (mutation counts as behaviour)"
SUBTLE = "not the same value (it differs past what is shown, or in its exact type)"


class Difference(BaseModel):
    """The first input on which an answer behaves unlike the reference."""

    call: str  # "has_dup([1, 1])"
    reference: str  # "returns True"
    answer: str  # "returns False", or the limit it hit ("timeout")
    limit: bool = False  # the answer hit a limit (time, memory) where the reference returned


def first_difference(
    reference: Sequence[CallOutcome],
    answer: Sequence[CallOutcome],
    inputs: Sequence[Sequence[Any]],
    entry_point: str,
) -> Difference | None:
    for args, ours, theirs in zip(inputs, reference, answer, strict=True):
        if ours.cause is not None:
            continue  # the reference hit a limit: no evidence either way
        if not same(ours, theirs):
            mine, other = describe(ours), describe(theirs)
            if mine == other:
                alike = ours.repr == theirs.repr and ours.value == theirs.value
                other += f" too, but {SAME_VALUE if alike else SUBTLE}"
            return Difference(
                call=format_call(entry_point, args),
                reference=mine,
                answer=other,
                limit=theirs.cause is not None,
            )
    return None


def same(reference: CallOutcome, answer: CallOutcome) -> bool:
    if answer.cause is not None or reference.ok != answer.ok:
        return False
    if not reference.ok:
        return reference.error == answer.error
    if reference.digest and answer.digest:
        return reference.digest == answer.digest
    return behaviour_key(reference) == behaviour_key(answer)


def evidence_inputs(outcomes: Sequence[CallOutcome]) -> int:
    """How many inputs the reference answered (the ones an answer was held to)."""
    return sum(1 for outcome in outcomes if outcome.cause is None)
