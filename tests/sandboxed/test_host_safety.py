"""Nothing from a problem runs on the host (issue #19): its input strategy, its parameter
annotations and its stub's imports each try to write a file on the host, and a module beside the
stub tries too when imported; through the library, ``codegen rank`` and ``codegen solve``, no
file appears, and the run ends with a clear verdict. (The service is tested the same way in
tests/test_service_tenancy.py.)"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from codegen.problems import load_problem
from codegen.ranking.inputs import draw
from tests.cli_support import FakeServerProcess, codegen, fenced

pytestmark = pytest.mark.docker


def hostile_problem(folder: Path, marker: Path, strategy: bool = True) -> Path:
    """A problem folder whose every piece of code writes ``marker``-… files where it runs: a
    module its stub imports, its parameter's annotation and (``strategy``) its strategies.py."""
    folder.mkdir(parents=True, exist_ok=True)
    write = "open({path!r}, 'w').write('ran here')"
    (folder / "hostwrite.py").write_text(write.format(path=f"{marker}-module") + "\n")
    annotation = f"open({str(marker) + '-annotation'!r}, 'w').write('x') and int or int"
    (folder / "problem.py").write_text(
        "import hostwrite\n\n"
        f"def double(x: {annotation}) -> int:\n"
        '    """Twice x.\n\n    >>> double(2)\n    4\n    """\n'
    )
    if strategy:
        (folder / "strategies.py").write_text(
            "from hypothesis import strategies as st\n"
            f"try:\n    {write.format(path=f'{marker}-strategy')}\nexcept OSError:\n    pass\n"
            "inputs = st.tuples(st.integers(-50, 50))\n"
        )
    (folder / "test_double.py").write_text(
        "from solution import double\n\ndef test_double():\n    assert double(3) == 6\n"
    )
    return folder


def written(marker: Path) -> list[str]:
    return sorted(p.name for p in marker.parent.glob(marker.name + "*"))


@pytest.fixture
def marker() -> Iterator[Path]:
    """A path prefix under /tmp, which exists in the sandbox too: a write there succeeds in
    the container and must not be seen here."""
    path = Path("/tmp") / f"codegen-host-{uuid.uuid4().hex}"
    yield path
    for left in path.parent.glob(path.name + "*"):
        left.unlink()


@pytest.mark.parametrize("strategy", [True, False], ids=["strategies.py", "type hints"])
def test_drawing_runs_the_problems_code_in_the_sandbox(
    sandbox_driver, tmp_path, marker, strategy
) -> None:
    problem = load_problem(hostile_problem(tmp_path / "p", marker, strategy))
    drawn = sandbox_driver.wait(draw(problem, sandbox_driver.sandbox, n=10))
    assert drawn.origin == ("strategies.py" if strategy else "type hints"), drawn
    assert len(drawn.args) == 10 and all(type(x) is int for (x,) in drawn.args)
    assert written(marker) == []


@pytest.mark.parametrize("strategy", [True, False], ids=["strategies.py", "type hints"])
def test_rank_and_solve_run_nothing_of_the_problem_on_the_host(tmp_path, marker, strategy) -> None:
    folder = hostile_problem(tmp_path / "p", marker, strategy)
    (tmp_path / "a.py").write_text("def double(x):\n    return 2 * x\n")
    (tmp_path / "b.py").write_text("def double(x):\n    return x + x\n")
    ranked = codegen("rank", str(folder), str(tmp_path / "a.py"), str(tmp_path / "b.py"),
                     cwd=folder)  # fmt: skip
    assert ranked.returncode == 0, ranked.stderr
    script = {"models": {"writer": [fenced("def double(x):\n    return 2 * x\n")]}}
    with FakeServerProcess(script, tmp_path) as server:
        solved = codegen(
            "solve", str(folder), "--models", "openai/writer", "--no-tester", "--no-jury",
            cwd=folder, env={"OPENAI_API_BASE": server.base_url},
        )  # fmt: skip
    assert solved.returncode == 0, solved.stderr
    assert written(marker) == []
