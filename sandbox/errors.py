"""Sandbox exceptions. A candidate misbehaving is never an exception: it is a verdict.

SandboxError: something about the job or the machine, not the candidate
├── SandboxUnavailable: no Docker engine, no image, a container that would not start
└── ProblemError: the problem's test files are broken (syntax error, import error)
"""


class SandboxError(Exception):
    pass


class SandboxUnavailable(SandboxError):
    pass


class ProblemError(SandboxError):
    pass
