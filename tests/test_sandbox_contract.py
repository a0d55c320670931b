"""The self-check every sandbox backend must pass (:class:`sandbox.testing.SandboxContract`,
as Inspect asks of its sandbox environments), run here on the built-in backends: the same jobs
give the same verdicts, messages, test names, values and digests on every backend, so that a
flow unit-tested on ``unsafe-local`` behaves the same on ``docker``.

Each backend is one pool for the whole module; the tests that compare the backends with each
other need both, hence Docker.
"""

from __future__ import annotations

import asyncio
import random
import sys
from collections.abc import Iterator

import pytest
from hypothesis import settings

import sandbox
from sandbox import SandboxBackend, SandboxError, TimingResult, backend_names, open_backend
from sandbox.registry import backend_factory
from sandbox.strict import StrictSandbox
from sandbox.testing import CONTRACT_LIMITS, ContractDriver, SandboxContract
from sandbox.testing.contract import BENCH_TESTS, INPUTS, SORTER, TOTAL


def _driver(name: str) -> ContractDriver:
    return ContractDriver(open_backend(name, workers=1, limits=CONTRACT_LIMITS))


@pytest.fixture(scope="module")
def unsafe_local() -> Iterator[ContractDriver]:
    with pytest.warns(RuntimeWarning, match="no isolation and no limits"):
        driver = _driver("unsafe-local")
    with driver:
        yield driver


@pytest.fixture(scope="module")
def docker() -> Iterator[ContractDriver]:
    with _driver("docker") as driver:
        yield driver


class TestUnsafeLocal(SandboxContract):
    @pytest.fixture
    def contract(self, unsafe_local: ContractDriver) -> ContractDriver:
        return unsafe_local


@pytest.mark.docker
class TestDocker(SandboxContract):
    @pytest.fixture
    def contract(self, docker: ContractDriver) -> ContractDriver:
        return docker


# -- the backends agree -------------------------------------------------------------------------
@pytest.mark.docker
def test_both_backends_give_the_same_digests(unsafe_local, docker) -> None:
    runs = [driver.run(TOTAL, BENCH_TESTS, entry="total") for driver in (unsafe_local, docker)]
    assert runs[0].benchmarks[0].digest == runs[1].benchmarks[0].digest
    assert runs[0].benchmarks[0].behaviour == runs[1].benchmarks[0].behaviour
    calls = [driver.call(SORTER, "arrange", INPUTS) for driver in (unsafe_local, docker)]
    ignore = {"cpu_seconds"}
    assert [o.model_dump(exclude=ignore) for o in calls[0]] == [
        o.model_dump(exclude=ignore) for o in calls[1]
    ]


# -- the registry, and what is particular to the unsafe backend ---------------------------------
def test_backends_are_found_by_name_and_satisfy_the_protocol() -> None:
    assert set(backend_names()) == {"docker", "ray", "strict", "unsafe-local"}
    assert isinstance(open_backend("docker", workers=1), sandbox.Sandbox)
    assert isinstance(open_backend("strict", workers=1), StrictSandbox)
    assert isinstance(open_backend("unsafe-local", workers=1), sandbox.UnsafeLocalSandbox)
    for name in backend_names():
        assert isinstance(backend_factory(name)(), SandboxBackend)
    assert sandbox.pool.TimingResult is sandbox.models.TimingResult is TimingResult


def test_an_unknown_backend_is_a_one_line_error_naming_the_known_ones() -> None:
    with pytest.raises(SandboxError) as error:
        open_backend("firecracker")
    known = "(known: docker, ray, strict, unsafe-local)"
    assert str(error.value) == f"unknown sandbox backend 'firecracker' {known}"


def test_the_unsafe_backend_says_what_it_is() -> None:
    async def enter() -> None:
        async with sandbox.UnsafeLocalSandbox():
            pass

    with pytest.warns(RuntimeWarning, match="in this process with no isolation and no limits"):
        asyncio.run(enter())
    assert "no isolation" in (sandbox.UnsafeLocalSandbox.__doc__ or "")


def test_the_unsafe_backend_leaves_the_process_as_it_found_it(unsafe_local) -> None:
    """Its random state, hypothesis profile and this repository's ``tests`` package; no
    ``solution``, no module of the job's tests."""
    ours, profile = sys.modules["tests"], settings.get_current_profile_name()
    random.seed(7)
    expected = random.random()
    random.seed(7)
    unsafe_local.run(TOTAL, BENCH_TESTS, entry="total")
    assert random.random() == expected and settings.get_current_profile_name() == profile
    assert sys.modules["tests"] is ours and "solution" not in sys.modules
    files = [getattr(module, "__file__", None) or "" for module in list(sys.modules.values())]
    assert not [path for path in files if "unsafe-local-" in path]
