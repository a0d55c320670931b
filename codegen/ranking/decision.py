"""When the evidence gathered so far already decides the winner. Pure: no I/O.

The ranking (:mod:`~codegen.ranking.rule`) is a lexicographic order: the correctness gate, then
the criteria of :mod:`~codegen.ranking.criteria` in order (behaviour, speed, memory, agreement,
jury), then the shorter source. Each piece of evidence that is still to come can only touch
some of them, so the winner of the evidence so far is *decided* when nothing still pending can
touch it:

- **Behaviour calls and the screening** (outputs on shared inputs, the model-written tests):
  they make the clusters, the consensus, the demotions and disputes. Pending: nothing is
  decided, unless one candidate passes (below).
- **Timing jobs.** A candidate that fails while being timed fails outright, and the rounds
  move every speed tier. The second look (``rounds`` more, run only when a candidate is
  *undecided*: tied with the fastest yet more than the noise floor slower,
  :func:`~codegen.ranking.statistics.compare_timings`) can reverse any tie or lead: its
  paired interval over 2r rounds is ``[d_(k), d_(2r-k+1)]`` with ``k ≤ r``
  (:func:`second_look_can_reverse`), so the r new rounds alone can place either bound anywhere.
  Pending: nothing is decided. When no candidate is undecided there is no second look, and the
  speed tiers of the first job are final: a winner alone in its speed tier leads by more than
  the noise (its interval against every rival of its group lies above the noise floor).
- **Growth** only moves a speed-ranked candidate after a speed-ranked rival of its own
  behaviour group that grows clearly slower (:class:`~codegen.ranking.criteria.Speed`); it
  changes no verdict, output, memory figure, consensus or dispute. It is measured at sizes up
  to 2^16 elements (2^40 for integers), far past the timed inputs, so no lead measured at the
  timed size bounds what it finds. Pending: decided only when the winner's behaviour group
  holds no other speed-ranked candidate (then no key in that group can move).
- **The jury** only orders candidates tied on every criterion before it. Pending: decided only
  when no other candidate shares the winner's tiers before the jury.
- **Disputed** rankings are never decided (the evidence that settles them is more samples).

**A lone passing candidate** is decided as soon as the tests say so: there is nothing to
choose between, and what follows only measures it for the report (the pipeline then records a
failure while it is timed as a warning, not a verdict:
:class:`~codegen.evaluation.timing.Timing`). With no passing candidate there is no winner, and
nothing that follows can add one.
"""

from __future__ import annotations

from dataclasses import dataclass

from codegen.ranking.criteria import position
from codegen.ranking.report import Decision, Stage
from codegen.ranking.rule import Ordering
from codegen.ranking.statistics import sign_test_k

__all__ = ["Decision", "Pending", "Stage", "decide", "second_look_can_reverse"]


@dataclass(frozen=True)
class Pending:
    """The evidence the full ranking will still gather (True: still to come)."""

    behaviour: bool = False  # differential calls, model-written tests, screening
    timing: bool = False  # a timing job: the first, or the second look
    growth: bool = False
    jury: bool = False


def decide(ordering: Ordering, pending: Pending, after: Stage) -> Decision | None:
    """The decision, when nothing ``pending`` can change the winner of ``ordering``; else
    None. See the module docstring."""
    report = ordering.report
    if report.disputed:
        return None
    passing = [c.id for c in report.candidates if c.passed]
    if not passing:
        return Decision(winner=None, after=after, reason="no candidate passes the tests")
    if len(passing) == 1:
        return Decision(winner=passing[0], after=after, reason="the only passing candidate")
    if pending.behaviour or pending.timing or report.winner is None:
        return None
    winner, keys = report.winner, ordering.keys
    speed, jury = position("speed", ordering.criteria), position("jury", ordering.criteria)
    group = [c for c in passing if keys[c][:speed] == keys[winner][:speed]]
    ranked = [c for c in group if c in ordering.facts.timings]
    if pending.growth and len(ranked) > 1:
        return None
    tied = [c for c in passing if c != winner and keys[c][:jury] == keys[winner][:jury]]
    if pending.jury and tied:
        return None
    names = [c.name for c in ordering.criteria]
    return Decision(winner=winner, after=after, reason=_reason(winner, keys, passing, after, names))


def _reason(
    winner: str, keys: dict[str, tuple[float, ...]], passing: list[str], after: str,
    names: list[str],
) -> str:  # fmt: skip
    """Which criterion first set the winner apart from each rival, in a few words."""
    apart = {
        next(
            (
                names[i]
                for i, (a, b) in enumerate(zip(keys[winner], keys[c], strict=True))
                if a != b
            ),
            "the shorter source",
        )  # fmt: skip
        for c in passing
        if c != winner
    }
    ahead = ", ".join(sorted(apart))
    return f"ahead on {ahead} after the {after}; nothing still to come can change it"


def second_look_can_reverse(rounds: int) -> bool:
    """Whether ``rounds`` more paired rounds can move the interval of 2·``rounds`` anywhere:
    the sign test's order statistic ``k`` for 2r rounds is at most r, so the r new per-round
    ratios alone can be the interval's bounds."""
    return sign_test_k(2 * rounds) <= rounds
