"""The candidate's side of the process boundary.

A candidate process is forked from the pristine in-container server (which holds no tests), drops
to its limits, executes the candidate's source as the module ``solution`` and then answers calls:
each request is a pickled ``(name, args, kwargs, want_args)`` and each answer a pickled tuple of
plain data. Nothing it does here can reach the harness except the bytes it sends back, which the
harness decodes with :func:`plaindata.loads_plain`.
"""

from __future__ import annotations

import os
import pickle
import resource
import sys
import types
from typing import Any

from . import framing, plaindata

CALL_FD = 3


def send(fd: int, message: Any) -> None:
    send_bytes(fd, pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL))


def send_bytes(fd: int, data: bytes) -> None:
    framing.write_all(fd, framing.HEADER.pack(len(data)) + data)


def receive(fd: int) -> Any:
    body = framing.read_frame_body(fd)
    if body is None:
        raise EOFError
    return pickle.loads(body)


def set_limits(memory_mb: int, cpu_seconds: int, file_bytes: int) -> None:
    resource.setrlimit(resource.RLIMIT_AS, (memory_mb << 20, memory_mb << 20))
    resource.setrlimit(resource.RLIMIT_CPU, (cpu_seconds, cpu_seconds + 1))
    resource.setrlimit(resource.RLIMIT_FSIZE, (file_bytes, file_bytes))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


def plain_pickle(value: Any) -> bytes:
    """Pickle `value` so that the harness's builtins-only loader accepts it. The fast path pickles
    as is (C speed); only values holding non-builtin types pay for a conversion."""
    data = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
    try:
        plaindata.loads_plain(data)
        return data
    except Exception:
        return pickle.dumps(plaindata.to_plain(value), protocol=pickle.HIGHEST_PROTOCOL)


def _describe_exception(error: BaseException) -> tuple[str, list[str], str]:
    names = [cls.__name__ for cls in type(error).__mro__ if cls.__module__ == "builtins"]
    try:
        message = str(error)[:2000]
    except Exception:
        message = "<unprintable>"
    return ("raise", names, f"{type(error).__name__}: {message}")


def serve(source: str, work_dir: str, trusted_path: list[str]) -> None:
    """Run in the freshly forked candidate process; never returns."""
    os.chdir(work_dir)
    sys.path[:] = trusted_path
    sys.dont_write_bytecode = True
    module = types.ModuleType("solution")
    module.__file__ = os.path.join(work_dir, "solution.py")
    sys.modules["solution"] = module
    try:
        code = compile(source, "solution.py", "exec")
        exec(code, module.__dict__)
    except MemoryError:
        send(CALL_FD, ("memory",))
        os._exit(0)
    except BaseException as error:  # SystemExit at import is reported, not obeyed
        send(CALL_FD, _describe_exception(error))
        os._exit(0)
    send_bytes(CALL_FD, _exports(module))
    while True:
        try:
            name, args, kwargs, want_args = receive(CALL_FD)
        except EOFError:
            os._exit(0)
        send_bytes(CALL_FD, _call(module, name, args, kwargs, want_args))


def _exports(module: types.ModuleType) -> bytes:
    """Top-level names tests may import: functions become proxies, plain constants are copied."""
    callables, constants = [], {}
    for name, value in list(vars(module).items()):
        if name.startswith("__"):
            continue
        if callable(value):
            callables.append(name)
            continue
        try:
            plaindata.loads_plain(plain_pickle(value))
            constants[name] = value
        except Exception:
            continue
    return plain_pickle(("ready", callables, constants))


def _call(module: types.ModuleType, name: str, args: tuple, kwargs: dict, want_args: bool) -> bytes:
    try:
        function = getattr(module, name)
        value = function(*args, **kwargs)
    except MemoryError:
        return plain_pickle(("memory",))
    except Exception as error:
        return plain_pickle(_describe_exception(error))
    try:
        return plain_pickle(("ok", value, list(args) if want_args else None))
    except MemoryError:
        return plain_pickle(("memory",))
    except Exception as error:
        return plain_pickle(("notplain", f"{error}"))
