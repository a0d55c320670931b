"""`codegen optimise`: make a working function faster, proven equivalent and measured.

``target`` (what is optimised and its tests), ``profile`` (where its time goes, measured in the
sandbox), ``equivalence`` (same behaviour, input by input; pure), ``flow`` (the rounds),
``view`` (the terminal); its report (the chain of accepted versions) is
:mod:`codegen.solve.optimisation`, a floor down, since a solve's report holds one too. Loaded
lazily: a report reader needs only the report.
"""

from typing import TYPE_CHECKING

from codegen.lazy import lazy_getattr
from codegen.solve.optimisation import OptimiseReport, Rejection, Step

if TYPE_CHECKING:
    from codegen.optimise.flow import DEFAULT_ROUNDS, optimise
    from codegen.optimise.target import Target, load_target, rewritten

_LAZY = {
    "DEFAULT_ROUNDS": "flow", "optimise": "flow",
    "Target": "target", "load_target": "target", "rewritten": "target",
}  # fmt: skip


__getattr__ = lazy_getattr(__name__, _LAZY)


__all__ = [
    "DEFAULT_ROUNDS",
    "OptimiseReport",
    "Rejection",
    "Step",
    "Target",
    "load_target",
    "optimise",
    "rewritten",
]
