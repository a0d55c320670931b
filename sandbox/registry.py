"""Sandbox backends by name: the built-in ones and any a package registers (as llm plugins
register models), each imported only when opened.

A package registers its backend class (or any callable taking keyword options and returning a
:class:`~sandbox.backend.SandboxBackend`) under the entry-point group
:data:`ENTRY_POINT_GROUP`::

    [project.entry-points."codegen.sandbox_backends"]
    firecracker = "my_package.backend:FirecrackerSandbox"

then ``[tool.codegen.sandbox] backend = "firecracker"`` opens it, and
:class:`sandbox.testing.SandboxContract` checks that it behaves as the others do
(docs/sandbox-backends.md). This module reads names only: it imports no backend until one is
opened, so reading a config costs nothing.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from importlib.metadata import EntryPoint, entry_points
from typing import Any

from .backend import SandboxBackend
from .errors import SandboxError

ENTRY_POINT_GROUP = "codegen.sandbox_backends"
# Also declared as entry points in pyproject.toml; kept here so that a checkout that is not
# installed still has them, and so that no package can take one of these names over.
BUILT_IN = {
    "docker": "sandbox.pool:Sandbox",
    "ray": "sandbox.ray_backend:RaySandbox",
    "strict": "sandbox.strict:StrictSandbox",
    "unsafe-local": "sandbox.unsafe_local:UnsafeLocalSandbox",
}

Factory = Callable[..., SandboxBackend]


def registered() -> dict[str, str]:
    """Every backend's name and where it is (``module:attribute``), read afresh each time (a
    package installed meanwhile is seen); a package's entry point never replaces a built-in."""
    found = {point.name: point.value for point in entry_points(group=ENTRY_POINT_GROUP)}
    return found | BUILT_IN


def backend_names() -> list[str]:
    return sorted(registered())


def backend_factory(name: str) -> Factory:
    """The class (or callable) registered as ``name``, imported now."""
    where = registered().get(name)
    if where is None:
        raise SandboxError(
            f"unknown sandbox backend {name!r} (known: {', '.join(backend_names())})"
        )
    try:
        found = EntryPoint(name, where, ENTRY_POINT_GROUP).load()
    except (ImportError, AttributeError) as error:
        raise SandboxError(
            f"sandbox backend {name!r} ({where}) cannot be loaded: {type(error).__name__}: {error}"
        ) from None
    if not callable(found):
        raise SandboxError(f"sandbox backend {name!r} ({where}) is not a class or a function")
    return found


def open_backend(name: str, **options: Any) -> SandboxBackend:
    """The backend registered as ``name``, built with ``options`` (not yet entered); options it
    does not take are one clear error, not a TypeError from deep inside."""
    factory = backend_factory(name)
    try:
        inspect.signature(factory).bind(**options)
    except TypeError as error:
        said = f"sandbox backend {name!r} does not take these options: {error}"
        raise SandboxError(said) from None
    except ValueError:  # no signature to read (a builtin): the call itself will say
        pass
    return factory(**options)
