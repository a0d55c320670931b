"""Test aids for the sandbox seam, shipped in the package so that any backend's tests and any
flow's tests can use them:

- :class:`SandboxContract`, the self-check every backend passes (with :class:`ContractDriver`
  and :data:`CONTRACT_LIMITS`): subclass it and give it your backend (docs/sandbox-backends.md);
- :class:`ScriptedSandbox`, an in-memory backend answering each candidate from its
  :class:`Script`, for testing the flows built on the sandbox without running anything.
"""

from typing import TYPE_CHECKING, Any

from .scripted import Script, ScriptedSandbox

if TYPE_CHECKING:
    from .contract import CONTRACT_LIMITS, ContractDriver, SandboxContract

# The contract imports pytest: loaded only when asked for.
_CONTRACT = {"CONTRACT_LIMITS", "ContractDriver", "SandboxContract"}


def __getattr__(name: str) -> Any:
    if name in _CONTRACT:
        from . import contract

        return getattr(contract, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["CONTRACT_LIMITS", "ContractDriver", "SandboxContract", "Script", "ScriptedSandbox"]
