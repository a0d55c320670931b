"""Benchmarks share the Docker-backed sandbox driver of the tests."""

from tests.sandboxed.conftest import sandbox_driver  # noqa: F401
