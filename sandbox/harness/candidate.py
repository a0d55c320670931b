"""The candidate's side of the process boundary: the only harness code that runs in the
candidate's process, kept to what a plain call needs.

A candidate process is forked from the zygote (:mod:`server`), which has never handled a
request, so nothing of another job, and nothing that tells a timed round from a tested one, is
in its memory. It reads its job (the source and three resource limits, the same for every job,
and for a project's candidate the module it is) from its call socket, runs the source as the
module ``solution`` (or imports it as that module of the project mounted read-only, its
package first, as Python would: :func:`import_as`) and then answers calls: each request is
``(name, args, kwargs, table)`` and each answer the plain-data tuple of :mod:`wire`. It does
no checking of its own answers: the harness checks them, outside. Its stdout and stderr are
flushed before every answer, so that the harness can hand what a call printed to the test
that made it.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import importlib.util
import os
import random
import resource
import sys
import types
from collections.abc import Sequence

from . import framing, plaindata, wire

CALL_FD = 3
WORK_DIR = "/tmp/work"


def send(fd: int, data: bytes) -> None:
    framing.write_all(fd, framing.HEADER.pack(len(data)) + data)


def set_limits(memory_mb: int, cpu_seconds: int, file_bytes: int) -> None:
    resource.setrlimit(resource.RLIMIT_AS, (memory_mb << 20, memory_mb << 20))
    resource.setrlimit(resource.RLIMIT_CPU, (cpu_seconds, cpu_seconds + 1))
    resource.setrlimit(resource.RLIMIT_FSIZE, (file_bytes, file_bytes))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


def run(trusted_path: list[str]) -> None:
    """The candidate process's life once it holds its descriptors: say it is waiting, read
    the job, import the source, answer calls until the harness closes the socket. Never
    returns. "Waiting" marks the end of the set-up every process does (forked, dropped to its
    user): a timing round's meter starts there, so none of it, nor the zygote's forking,
    is charged to the candidate."""
    _answer(("waiting",))
    job = framing.read_frame(CALL_FD)
    if job is None:
        os._exit(0)
    where = job.get("module")
    os.makedirs(WORK_DIR, exist_ok=True)
    os.chdir(where["root"] if where else WORK_DIR)  # a project's module: at its root
    random.seed(0)  # the same answers every round, in every container
    set_limits(job["memory_mb"], job["cpu_seconds"], job["file_bytes"])
    sys.path[:] = [where["import_path"], *trusted_path] if where else trusted_path
    sys.dont_write_bytecode = True
    try:
        if where:
            module = import_as(where["name"], where["file"], job["source"])
        else:
            module = types.ModuleType("solution")
            module.__file__ = os.path.join(WORK_DIR, "solution.py")
            sys.modules["solution"] = module
            exec(compile(job["source"], "solution.py", "exec"), module.__dict__)
    except MemoryError:
        _answer(("memory",))
        os._exit(0)
    except BaseException as error:  # SystemExit at import is reported, not obeyed
        _answer(wire.describe_exception(error))
        os._exit(0)
    del job
    _answer(("ready", exports(module)))
    while True:
        body = framing.read_frame_body(CALL_FD)
        if body is None:
            os._exit(0)
        _answer(answer(module, body))


class OneModule(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Serves one module of the project from the job's source instead of its file; importing
    ``solution`` imports that module."""

    def __init__(self, name: str, file: str, source: str) -> None:
        self.name, self.file, self.source = name, file, source

    def find_spec(
        self,
        fullname: str,
        path: Sequence[str] | None = None,
        target: types.ModuleType | None = None,
    ) -> importlib.machinery.ModuleSpec | None:
        if fullname == "solution":
            return importlib.util.spec_from_loader(fullname, _Alias(self.name))
        if fullname != self.name:
            return None
        spec = importlib.util.spec_from_loader(fullname, self, origin=self.file)
        assert spec is not None  # a loader is given
        if os.path.basename(self.file) == "__init__.py":  # a package: its submodules too
            spec.submodule_search_locations = [os.path.dirname(self.file)]
        return spec

    def create_module(self, spec: object) -> None:
        return None

    def exec_module(self, module: types.ModuleType) -> None:
        module.__file__ = self.file
        sys.modules["solution"] = module
        exec(compile(self.source, self.file, "exec"), module.__dict__)


class _Alias(importlib.abc.Loader):
    """``import solution``: the project's module, imported as itself (the import system then
    hands back what ``sys.modules["solution"]`` holds)."""

    def __init__(self, name: str) -> None:
        self.name = name

    def create_module(self, spec: object) -> None:
        return None

    def exec_module(self, module: types.ModuleType) -> None:
        sys.modules["solution"] = importlib.import_module(self.name)


def import_as(name: str, file: str, source: str) -> types.ModuleType:
    """Import ``source`` as the project's module ``name`` (its file ``file``): its parent
    packages are imported first, from the project, and ``solution`` names it too."""
    sys.meta_path.insert(0, OneModule(name, file, source))
    return importlib.import_module(name)


def exports(module: types.ModuleType) -> dict[str, object]:
    """What tests may import from ``solution``: each top-level name and what it is
    (``"function"``, ``"value"``, or an exception class's builtin bases)."""
    found: dict[str, object] = {}
    for name, value in list(vars(module).items()):
        if name.startswith("__"):
            continue
        if isinstance(value, type) and issubclass(value, BaseException):
            found[name] = [c.__name__ for c in value.__mro__ if c.__module__ == "builtins"]
        else:
            found[name] = "function" if callable(value) else "value"
    return found


def answer(module: types.ModuleType, body: bytes) -> tuple:
    """Carry out one request: a call ``(name, args, kwargs, table)`` or ``("get", name)``."""
    request = wire.unpack_call(body)
    if request[0] == "get":
        return ("value", getattr(module, request[1], None))
    name, args, kwargs, table = request
    try:
        value = getattr(module, name)(*args, **kwargs)
    except MemoryError:
        return ("memory",)
    except Exception as error:
        return (*wire.describe_exception(error), table)
    return ("ok", value, table)


def _answer(message: tuple) -> None:
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except Exception:
            pass
    send(CALL_FD, encode(message))


def encode(message: tuple) -> bytes:
    """The answer's bytes; an exception whose arguments are not plain data goes with its text
    alone, and any other answer that is not plain data becomes ``("notplain", why)``."""
    attempts = [message]
    if message[0] == "raise":
        attempts.append((*message[:2], (), *message[3:]))
    why = ""
    for attempt in attempts:
        try:
            return wire.pack_answer(attempt)
        except plaindata.NotPlainData as error:
            why = str(error)[:300]
    return wire.pack_answer(("notplain", why))
