"""One exception hierarchy for the whole tool, each class carrying its CLI exit code.

    CodegenError (exit 1)
    ├── BadInput (exit 2): the user's files or flags are wrong; the message names the fix
    ├── EnvironmentProblem (exit 3): Docker, a model server or an install is missing
    └── Disputed (exit 4): candidates pass but disagree, and none has more support: no winner

The CLI prints ``str(error)`` as one line and exits with ``error.exit_code``; nothing
else in the code base decides exit codes.
"""


class CodegenError(Exception):
    exit_code = 1


class BadInput(CodegenError):
    exit_code = 2


class EnvironmentProblem(CodegenError):
    exit_code = 3


class Disputed(CodegenError):
    exit_code = 4
