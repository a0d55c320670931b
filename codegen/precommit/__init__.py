"""The pre-commit helper: functions marked `# codegen: solve` in staged files get written.

find (marked stubs, pure) → associate (their doctests and test file → a Problem), both in
:mod:`codegen.project` a floor down, shared with ``codegen solve|optimise path.py::name`` →
cache (solved stubs by fingerprint) → the solve engine for the rest → rewrite (new bodies, a
diff, pure) → hook (the orchestration and exit code).
"""

from codegen.precommit.cache import SolvedCache, SolvedEntry, cache_dir
from codegen.precommit.hook import HookOutcome, run_hook
from codegen.precommit.rewrite import apply, implementation_body, unified_diff
from codegen.project.find import MARKER, MarkedStub, find_stubs
from codegen.project.git import repo_root

__all__ = [
    "MARKER",
    "HookOutcome",
    "MarkedStub",
    "SolvedCache",
    "SolvedEntry",
    "apply",
    "cache_dir",
    "find_stubs",
    "implementation_body",
    "repo_root",
    "run_hook",
    "unified_diff",
]
