"""The pre-commit helper's pure parts: finding marked stubs, their tests, writing bodies back."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

from codegen.errors import BadInput
from codegen.precommit import (
    SolvedCache,
    SolvedEntry,
    apply,
    cache_dir,
    find_stubs,
    implementation_body,
)
from codegen.project.associate import associated_tests, find_test_file, problem_for

MODULE = '''"""Helpers."""
import math


# codegen: solve
def hypot(a: float, b: float) -> float:
    """The hypotenuse.

    >>> hypot(3, 4)
    5.0
    """
    ...


def done(x):  # codegen: solve
    return x


def later(x):  # not marked
    raise NotImplementedError


def one_liner(x): raise NotImplementedError  # codegen: solve


class Shape:
    def area(self):  # codegen: solve
        ...


NOTE = "# codegen: solve is only text here"
'''


def test_finds_marked_stubs_only() -> None:
    stubs, warnings = find_stubs(MODULE, "helpers.py")
    assert [s.name for s in stubs] == ["hypot", "one_liner"]
    hypot, one_liner = stubs
    assert hypot.has_doctests and not one_liner.has_doctests
    assert hypot.stub.startswith("import math\n") and "def hypot(a: float" in hypot.stub
    assert (hypot.body_lineno, hypot.body_col) == (12, 4)
    assert warnings == ["helpers.py:27: area is not a top-level function; "
                        "only module-level functions can be generated"]  # fmt: skip


def test_marker_may_sit_in_the_body_and_unicode_columns_count_characters() -> None:
    source = (
        'def greet(name):\n    """Say hé → hi."""\n'
        "    raise NotImplementedError  # codegen: solve\n"
    )
    (stub,), _ = find_stubs(source, "g.py")
    assert (stub.body_lineno, stub.body_col, stub.end_lineno) == (3, 4, 3)


def test_syntax_error_is_one_line_bad_input() -> None:
    with pytest.raises(BadInput, match=r"broken.py:1: syntax error"):
        find_stubs("def f(:\n    ...  # codegen: solve\n", "broken.py")


def test_apply_replaces_only_the_stub_statement() -> None:
    stubs, _ = find_stubs(MODULE, "helpers.py")
    solution = (
        "import math\nfrom __future__ import annotations\n\n\n"
        "def _square(x):\n    return x * x\n\n\n"
        'def hypot(a, b):\n    """Restated docstring."""\n'
        "    return math.sqrt(_square(a) + _square(b))\n"
    )
    body = implementation_body(solution, "hypot")
    assert body == (
        "import math\ndef _square(x):\n    return x * x\n\n"
        "return math.sqrt(_square(a) + _square(b))\n"
    )
    after = apply(MODULE, [(stubs[0], body), (stubs[1], "return -x\n")])
    ast.parse(after)
    before_lines, after_lines = MODULE.splitlines(), after.splitlines()
    assert after_lines[:11] == before_lines[:11]  # imports, marker, signature, docstring
    assert after_lines[11:16] == [
        "    import math",
        "    def _square(x):",
        "        return x * x",
        "",
        "    return math.sqrt(_square(a) + _square(b))",
    ]
    assert after_lines[16:26] == before_lines[12:22]  # the functions in between, untouched
    assert after_lines[26:28] == ["def one_liner(x):", "    return -x  # codegen: solve"]
    assert after_lines[28:] == before_lines[23:]
    assert find_stubs(after, "helpers.py")[0] == []  # solved stubs are not found again


def test_apply_keeps_crlf_line_endings() -> None:
    source = (
        'def f(x):\r\n    """Double.\r\n\r\n    >>> f(2)\r\n    4\r\n    """\r\n'
        "    ...  # codegen: solve\r\n"
    )
    (stub,), _ = find_stubs(source, "f.py")
    after = apply(source, [(stub, "y = x * 2\nreturn y\n")])
    assert after == source.replace("    ...", "    y = x * 2\r\n    return y")


def test_associated_tests_are_rewritten_to_import_the_candidate(tmp_path: Path) -> None:
    (tmp_path / "pkg").mkdir()
    (tmp_path / "tests").mkdir()
    module = tmp_path / "pkg" / "helpers.py"
    module.write_text(MODULE)
    tests = tmp_path / "tests" / "test_helpers.py"
    tests.write_text(
        "import pytest\nfrom pkg.helpers import hypot, done\n\n\n"
        "def test_hypot():\n    assert hypot(6, 8) == 10.0\n\n\n"
        "def test_both():\n    assert done(hypot(3, 4)) == 5.0\n\n\n"
        "def test_done():\n    assert done(1) == 1\n"
    )
    assert find_test_file(module, tmp_path) == tests
    stubs, _ = find_stubs(MODULE, str(module))
    rewritten = associated_tests(stubs[0], "helpers", tests.read_text(), "tests/test_helpers.py")
    assert rewritten is not None
    assert "from solution import hypot\n" in rewritten and "pkg.helpers" not in rewritten
    assert "def test_hypot" in rewritten
    assert "def test_both" not in rewritten and "def test_done" not in rewritten
    problem = problem_for(stubs[0], tmp_path)
    assert [t.name for t in problem.visible_tests] == ["test_hypot.py", "test_doctests.py"]
    assert problem.entry_point == "hypot" and problem.stub == stubs[0].stub


def test_stub_without_doctests_or_tests_is_bad_input(tmp_path: Path) -> None:
    module = tmp_path / "lone.py"
    module.write_text("def lone(x):  # codegen: solve\n    ...\n")
    (stub,), _ = find_stubs(module.read_text(), str(module))
    with pytest.raises(BadInput, match=r"lone.py:1: lone is marked .* has no tests; add >>> "):
        problem_for(stub, tmp_path)


def test_cache_lives_in_the_git_folder_unless_codegen_cache_is_set(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    monkeypatch.delenv("CODEGEN_CACHE", raising=False)
    assert cache_dir(tmp_path) == (tmp_path / ".git" / "codegen" / "solved").resolve()
    monkeypatch.setenv("CODEGEN_CACHE", str(tmp_path / "elsewhere"))
    assert cache_dir(tmp_path) == tmp_path / "elsewhere" / "solved"
    cache = SolvedCache(cache_dir(tmp_path))
    assert cache.get("k") is None
    cache.put("k", SolvedEntry(problem="p", code="def f(): return 1\n", model="m"))
    hit = cache.get("k")
    assert hit is not None and hit.code == "def f(): return 1\n" and hit.created > 0
    (cache.folder / "k.json").write_text("{truncated")
    assert cache.get("k") is None  # a damaged entry means solving again, not a crash


def test_hook_manifest_is_valid_for_pre_commit() -> None:
    pre_commit = Path(sys.executable).with_name("pre-commit")
    if not pre_commit.exists():
        pytest.skip("pre-commit missing: pip install -e '.[dev]'")
    manifest = Path(__file__).resolve().parents[1] / ".pre-commit-hooks.yaml"
    done = subprocess.run(
        [str(pre_commit), "validate-manifest", str(manifest)], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stdout + done.stderr
