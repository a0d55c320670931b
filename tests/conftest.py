"""Fixtures shared by test modules in different folders."""

from tests.ray_support import ray_cluster  # noqa: F401 - the two-node Ray cluster
