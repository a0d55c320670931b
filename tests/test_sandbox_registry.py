"""The registry of sandbox backends: a backend another package registers through the
``codegen.sandbox_backends`` entry point is found by name, opened from the config, and passes
the packaged contract suite; the seam's modules import no implementation.

The package here is real packaging metadata (a ``*.dist-info`` folder with ``entry_points.txt``,
as pip writes it) on ``sys.path``, read by ``importlib.metadata`` as an installed one would be.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from codegen.settings import SandboxSettings
from sandbox import DEFAULT_LIMITS, SandboxBackend, SandboxError, backend_names, open_backend
from sandbox.registry import ENTRY_POINT_GROUP
from sandbox.testing import CONTRACT_LIMITS, ContractDriver, SandboxContract

TOY_MODULE = textwrap.dedent('''
    """A third party's backend: the in-process one behind a wrapper of its own, counting jobs."""

    from sandbox import DEFAULT_LIMITS
    from sandbox.unsafe_local import UnsafeLocalSandbox


    class ToySandbox:
        project = None

        def __init__(self, limits=DEFAULT_LIMITS, workers=1):
            self.limits = limits
            self.inner = UnsafeLocalSandbox(limits=limits)
            self.jobs = 0

        async def __aenter__(self):
            await self.inner.__aenter__()
            return self

        async def __aexit__(self, *exc):
            await self.inner.__aexit__(*exc)

        async def run(self, job):
            self.jobs += 1
            return await self.inner.run(job)

        async def call(self, job):
            self.jobs += 1
            return await self.inner.call(job)

        async def time(self, job):
            self.jobs += 1
            return await self.inner.time(job)


    NOT_A_BACKEND = 42
''')
ENTRY_POINTS = f"""
[{ENTRY_POINT_GROUP}]
toy = toy_sandbox:ToySandbox
missing = toy_sandbox:NoSuchClass
number = toy_sandbox:NOT_A_BACKEND
docker = toy_sandbox:ToySandbox
"""


def install_toy(root: Path) -> None:
    """A distribution ``toy-sandbox`` as pip would leave it in site-packages."""
    (root / "toy_sandbox.py").write_text(TOY_MODULE)
    info = root / "toy_sandbox-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: toy-sandbox\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text(ENTRY_POINTS)


@pytest.fixture(scope="module")
def toy_installed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    root = tmp_path_factory.mktemp("site")
    install_toy(root)
    with pytest.MonkeyPatch.context() as patch:
        patch.syspath_prepend(str(root))
        yield
    sys.modules.pop("toy_sandbox", None)


@pytest.mark.slow  # the whole contract again (TestUnsafeLocal runs it in test-fast)
class TestABackendRegisteredThroughAnEntryPoint(SandboxContract):
    """The packaged contract suite, run on a backend the registry found by its entry point."""

    @pytest.fixture(scope="class")
    @classmethod
    def contract(cls, toy_installed: None) -> Iterator[ContractDriver]:
        backend = open_backend("toy", workers=1, limits=CONTRACT_LIMITS)
        assert type(backend).__module__ == "toy_sandbox"
        with pytest.warns(RuntimeWarning, match="no isolation"):  # what it wraps says so
            driver = ContractDriver(backend)
        with driver:
            yield driver
        assert vars(backend)["jobs"] > 0  # the jobs went through the toy's own methods


def test_a_registered_backend_is_named_and_opened_from_the_config(toy_installed) -> None:
    assert {"docker", "ray", "strict", "unsafe-local", "toy"} <= set(backend_names())
    backend = SandboxSettings(backend="toy", workers=3).open(DEFAULT_LIMITS)
    assert type(backend).__name__ == "ToySandbox" and isinstance(backend, SandboxBackend)


def test_a_package_cannot_take_a_built_in_name_over(toy_installed) -> None:
    assert type(open_backend("docker", workers=1)).__module__ == "sandbox.pool"


@pytest.mark.parametrize(
    ("name", "said"),
    [
        ("missing", "sandbox backend 'missing' (toy_sandbox:NoSuchClass) cannot be loaded: "),
        ("number", "sandbox backend 'number' (toy_sandbox:NOT_A_BACKEND) is not a class"),
    ],
)
def test_a_broken_entry_point_is_one_clear_error(toy_installed, name, said) -> None:
    with pytest.raises(SandboxError) as error:
        open_backend(name)
    assert str(error.value).startswith(said) and "\n" not in str(error.value)


def test_an_option_a_backend_does_not_take_is_one_clear_error(toy_installed) -> None:
    with pytest.raises(SandboxError, match="sandbox backend 'toy' does not take these options"):
        open_backend("toy", workers=1, runtime="runsc")


def test_an_unknown_backend_in_the_config_is_refused_naming_the_known_ones() -> None:
    with pytest.raises(ValueError, match=r"unknown backend 'firecracker' \(known: docker, "):
        SandboxSettings(backend="firecracker")


def test_the_protocol_and_the_registry_import_no_backend() -> None:
    """Reading names, or the protocol, loads neither Docker's SDK nor pytest nor any backend;
    the in-process backend's machinery does not reach into the Docker pool."""
    probe = textwrap.dedent("""
        import sys
        import sandbox.backend, sandbox.registry
        sandbox.registry.backend_names()
        heavy = ["docker", "pytest", "sandbox.pool", "sandbox.strict", "sandbox.ray_backend",
                 "sandbox.unsafe_local", "sandbox.unsafe_jobs"]
        print([name for name in heavy if name in sys.modules])
        import sandbox.unsafe_jobs
        print("sandbox.pool" in sys.modules, "docker" in sys.modules)
    """)
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=True
    )
    assert done.stdout.split("\n")[:2] == ["[]", "False False"], done.stdout + done.stderr
