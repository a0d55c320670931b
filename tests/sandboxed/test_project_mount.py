"""A project's source in the sandbox: mounted read-only, the candidate imported as the project's
module (relative imports, ``__name__`` and ``__file__`` as in the project), the project's own
tests run as plain pytest at its root with their conftest fixtures, taking a pass away only.
On the warm pool and the strict backend alike."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest

from codegen.project.snapshot import remove, take_snapshot
from sandbox import CallJob, Limits, ModuleSpec, Project, RunJob, Sandbox, TimingJob, Verdict
from sandbox.strict import StrictSandbox

pytestmark = pytest.mark.docker

LIMITS = Limits(wall_seconds=40, test_seconds=10, cpu_seconds=10)
UTIL = "def normalize(text: str) -> str:\n    return text.strip().lower()\n"
TEXT = '''"""Text helpers."""
import re

from .util import normalize

SEPARATOR = "-"


def _words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9]+", normalize(text))


def slugify(text: str) -> str:
    ...
'''
CONFTEST = "import pytest\n\n\n@pytest.fixture\ndef phrase():\n    return '  Hello, World '\n"
REPOSITORY_TESTS = """from pkg.text import slugify


def test_with_the_fixture(phrase):
    assert slugify(phrase) == "hello-world"


def test_digits():
    assert slugify("Route 66") == "route-66"
"""
PROBLEM_TESTS = {
    "test_slugify.py": "from solution import slugify\n\n\ndef test_basic():\n"
    "    assert slugify('A b') == 'a-b'\n"
}
GOOD = TEXT.replace("    ...\n", "    return SEPARATOR.join(_words(text))\n")
NO_DIGITS = TEXT.replace(  # passes the problem's test, fails the project's second one
    "    ...\n", "    return SEPARATOR.join(w for w in _words(text) if not w.isdigit())\n"
)
SPEC = ModuleSpec(name="pkg.text", path="src/pkg/text.py", import_path="src")
NODES = ["tests/test_text.py::test_with_the_fixture", "tests/test_text.py::test_digits"]


def _project(root: Path) -> Path:
    package = root / "src" / "pkg"
    package.mkdir(parents=True)
    (root / "tests").mkdir()
    (root / "pyproject.toml").write_text(
        '[project]\nname = "pkg"\n\n[tool.pytest.ini_options]\naddopts = "--cov=pkg"\n'
        'pythonpath = ["src"]\n'
    )  # addopts naming a plugin the sandbox lacks: the project's tests still run
    (package / "__init__.py").write_text("")
    (package / "util.py").write_text(UTIL)
    (package / "text.py").write_text(TEXT)
    (root / "tests" / "conftest.py").write_text(CONFTEST)
    (root / "tests" / "test_text.py").write_text(REPOSITORY_TESTS)
    (root / "tests" / "elsewhere").mkdir()  # tests that cannot run here: a plugin it lacks
    (root / "tests" / "elsewhere" / "conftest.py").write_text("import pytest_postgresql\n")
    (root / "tests" / "elsewhere" / "test_db.py").write_text(
        "from pkg.text import slugify\n\n\ndef test_db():\n    assert slugify('x') == 'x'\n"
    )
    return root


class Backend:
    def __init__(self, factory: type, project: Project) -> None:
        self.loop = asyncio.new_event_loop()
        self.sandbox = factory(workers=1, limits=LIMITS, project=project)
        self.loop.run_until_complete(self.sandbox.__aenter__())

    def wait(self, coroutine):  # type: ignore[no-untyped-def]
        return self.loop.run_until_complete(coroutine)

    def close(self) -> None:
        self.loop.run_until_complete(self.sandbox.__aexit__(None, None, None))
        self.loop.close()


@pytest.fixture(scope="module", params=["warm", "strict"])
def backend(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator:
    snapshot = take_snapshot(_project(tmp_path_factory.mktemp("project")))
    factory = Sandbox if request.param == "warm" else StrictSandbox
    driver = Backend(factory, Project(root=str(snapshot)))
    yield driver
    driver.close()
    remove(snapshot)


def job(candidate: str, tests: list[str] | None = None) -> RunJob:
    return RunJob(
        entry_point="slugify", test_files=PROBLEM_TESTS, candidate=candidate, limits=LIMITS,
        module=SPEC, repository_tests=NODES if tests is None else tests,
    )  # fmt: skip


def test_the_candidate_is_the_projects_module(backend: Backend) -> None:
    result = backend.wait(backend.sandbox.run(job(GOOD)))
    assert result.verdict is Verdict.PASSED, result.message


def test_the_projects_tests_can_take_a_pass_away(backend: Backend) -> None:
    alone = backend.wait(backend.sandbox.run(job(NO_DIGITS, tests=[])))
    assert alone.verdict is Verdict.PASSED, alone.message  # the problem's test passes
    result = backend.wait(backend.sandbox.run(job(NO_DIGITS)))
    assert result.verdict is Verdict.FAILED
    assert result.message.startswith("the project's tests: 1 of 2 tests failed: "), result.message
    assert "tests/test_text.py::test_digits" in result.message


def test_tests_that_cannot_run_here_say_nothing(backend: Backend) -> None:
    """A conftest importing what the sandbox lacks: no verdict on the candidate either way."""
    tests = ["tests/elsewhere/test_db.py::test_db"]
    good = backend.wait(backend.sandbox.run(job(GOOD, tests=tests)))
    assert good.verdict is Verdict.PASSED, good.message
    wrong = GOOD.replace("SEPARATOR.join", "'_'.join")
    assert backend.wait(backend.sandbox.run(job(wrong, tests=tests))).verdict is Verdict.FAILED


def test_what_the_candidate_sees_of_itself_and_the_project(backend: Backend) -> None:
    probe = GOOD + (
        "\n\ndef where():\n    import os\n    import sys\n"
        "    wrote = True\n"
        "    try:\n        open(os.path.dirname(__file__) + '/planted.py', 'w')\n"
        "    except OSError:\n        wrote = False\n"
        "    return [__name__, __file__, sys.modules['solution'] is sys.modules[__name__], wrote,\n"
        "            os.getcwd()]\n"
    )
    (outcome,) = backend.wait(
        backend.sandbox.call(
            CallJob(candidate=probe, entry_point="where", inputs=[((), {})], module=SPEC)
        )
    )
    assert outcome.ok, outcome
    assert outcome.value == ["pkg.text", "/project/src/pkg/text.py", True, False, "/project"]


def test_timing_a_module_takes_its_imports_out(backend: Backend) -> None:
    floor = TEXT.replace("    ...\n", "    return None\n")
    inputs = [(("Some words here",), {})] * 3
    timing = backend.wait(
        backend.sandbox.time(
            TimingJob(
                test_files={},
                entry_point="slugify",
                candidates={"good": GOOD},
                rounds=3,
                inputs=inputs,
                module=SPEC,
                floor=floor,
            )
        )
    )
    assert "good" in timing.timings, timing.errors
    if isinstance(backend.sandbox, Sandbox):  # (the strict backend reports no floor)
        assert timing.floor  # the module with an empty body was timed beside it
