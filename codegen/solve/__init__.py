"""`codegen solve`, the product's flow, as a package whose modules follow it:

session   what a run holds open: rosters (and the embedded models), judges, the sandbox
rounds    one generation round: every roster at once, dedupe, test every new program
repair    the repair round, when nothing passes
flow      solve(): rounds ─▶ repair ─▶ the evaluation's ranking ─▶ the report
state     what a run has found so far, and the report it amounts to
report    the report (plain data, printed by --json)
events    progress events; progress draws them live, view prints the result
"""

from typing import TYPE_CHECKING

from codegen.lazy import lazy_getattr
from codegen.solve.events import (
    CandidateProgress,
    Decided,
    EventCallback,
    GenerationProgress,
    JudgeProgress,
    SolveEvent,
    StageProgress,
)
from codegen.solve.report import SolveReport

if TYPE_CHECKING:
    from codegen.solve.flow import check_tests_load, solve
    from codegen.solve.session import SolveSession, describe_rosters, roster_plan

# The flow and the session (the sandbox, the models) load when first asked for: a client that
# only reads reports and events stays light.
_LAZY = {
    "check_tests_load": "flow", "solve": "flow",
    "SolveSession": "session", "describe_rosters": "session", "roster_plan": "session",
}  # fmt: skip


__getattr__ = lazy_getattr(__name__, _LAZY)


__all__ = [
    "CandidateProgress",
    "Decided",
    "EventCallback",
    "GenerationProgress",
    "JudgeProgress",
    "SolveEvent",
    "SolveReport",
    "SolveSession",
    "StageProgress",
    "check_tests_load",
    "describe_rosters",
    "roster_plan",
    "solve",
]
