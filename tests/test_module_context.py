"""A candidate in its module (pure parts): the module with the body replaced is what runs, the
module's names count as defined, and the candidate itself stays the function."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from codegen.generation.extract import ExtractionError, extract_code
from codegen.generation.prune import defined_names
from codegen.precommit import apply, find_stubs, implementation_body
from codegen.problems.context import compose, program
from codegen.project.associate import problem_for
from codegen.solve.rounds import generation_task

MODULE = '''"""Text helpers."""
import re

SEPARATOR = "-"


def _words(text: str) -> list[str]:
    """The lower-case words of ``text``."""
    return re.findall(r"[a-z0-9]+", text.lower())


def slugify(text: str) -> str:  # codegen: solve
    """The words of ``text`` joined by dashes.

    >>> slugify("Hello, World!")
    'hello-world'
    """
    ...


def untouched(x):
    return x   # odd spacing that must survive
'''
REUSES = "def slugify(text: str) -> str:\n    return SEPARATOR.join(_words(text))\n"
REIMPLEMENTS = (
    "import re\n\n\ndef _words(text):\n    return re.findall(r'[a-z0-9]+', text.lower())\n\n\n"
    "def slugify(text: str) -> str:\n    return '-'.join(_words(text))\n"
)


def fenced(code: str) -> str:
    return f"Here it is:\n```python\n{code}```\n"


def run(source: str) -> dict:
    namespace: dict = {}
    exec(compile(source, "module.py", "exec"), namespace)  # test data of this file only
    return namespace


def test_the_candidate_runs_as_the_module_with_its_body_replaced() -> None:
    composed = compose(MODULE, "slugify", REUSES)
    assert composed == MODULE.replace("    ...\n", "    return SEPARATOR.join(_words(text))\n")
    assert run(composed)["slugify"]("Hello, World!") == "hello-world"
    # a candidate that brings its own helper keeps it to itself, as --fix writes it
    own = compose(MODULE, "slugify", REIMPLEMENTS)
    namespace = run(own)
    assert namespace["slugify"]("A b") == "a-b" and namespace["_words"].__doc__
    assert "    def _words(text):" in own and "    import re" in own
    assert own.endswith("def untouched(x):\n    return x   # odd spacing that must survive\n")


def test_what_runs_is_what_fix_writes() -> None:
    (stub,), _ = find_stubs(MODULE, "text.py")
    for candidate in (REUSES, REIMPLEMENTS):
        written = apply(MODULE, [(stub, implementation_body(candidate, "slugify"))])
        assert compose(MODULE, "slugify", candidate) == written


def test_a_candidate_that_cannot_be_cut_into_a_body_follows_the_module() -> None:
    lam = "slugify = lambda text: SEPARATOR.join(_words(text))\n"
    composed = compose(MODULE, "slugify", lam)
    assert composed.endswith(lam) and run(composed)["slugify"]("X y") == "x-y"


def test_the_modules_names_are_defined_for_the_candidate() -> None:
    assert {"re", "SEPARATOR", "_words", "slugify", "untouched"} <= (defined_names(MODULE) or set())
    assert defined_names("from os.path import *\n") is None  # anything may be defined
    reply = fenced(REUSES)
    with pytest.raises(ExtractionError, match="undefined name.*_words"):
        extract_code(reply, "slugify")  # alone, the helper is undefined
    assert extract_code(reply, "slugify", module=MODULE) == REUSES
    # one that re-implements it keeps its own copy; neither is dropped
    kept = extract_code(fenced(REIMPLEMENTS), "slugify", module=MODULE)
    assert "def _words" in kept and "import re" in kept
    with pytest.raises(ExtractionError, match="undefined name.*_letters"):
        extract_code(fenced("def slugify(t):\n    return _letters(t)\n"), "slugify", module=MODULE)


def test_a_marked_stub_carries_its_module(tmp_path: Path) -> None:
    path = tmp_path / "text.py"
    path.write_text(MODULE)
    (stub,), _ = find_stubs(MODULE, str(path))
    problem = problem_for(stub, tmp_path)
    assert problem.context is not None and problem.context.source == MODULE
    assert problem.context.path == "text.py"
    assert program(problem, REUSES) == compose(MODULE, "slugify", REUSES)
    task = generation_task(problem)
    assert task.module == MODULE
    # the helper changing makes another problem (the cache key)
    other = problem_for(stub, tmp_path, MODULE.replace("a-z0-9", "a-z"))
    assert other.fingerprint() != problem.fingerprint()


def test_a_problem_without_a_module_runs_the_candidate_alone(tmp_path: Path) -> None:
    from codegen.problems import problem_from_stub

    problem = problem_from_stub(
        "def f(x: int) -> int:\n    '''>>> f(1)\n    1\n    '''\n", name="f", where="f.py"
    )
    assert problem.context is None and program(problem, "def f(x):\n    return x\n") == (
        "def f(x):\n    return x\n"
    )
    assert ast.parse(program(problem, REUSES))


# -- where the module sits, and what the models see of it ---------------------------------------
UTIL = '''"""Shared text functions."""
import unicodedata

ACCENTS = "NFKD"


def normalize(text: str) -> str:
    """Text without accents.

    Longer explanation that the prompt does not need.
    """
    return unicodedata.normalize(ACCENTS, text).encode("ascii", "ignore").decode()


def _private(x):
    return x


class Table:
    """A table of words."""

    def __init__(self, rows: list[str]) -> None:
        self.rows = rows

    def width(self) -> int:
        return max(map(len, self.rows))
'''
PACKAGED = MODULE.replace("import re\n", "import re\n\nfrom .util import normalize\n")


def _src_layout(root: Path) -> Path:
    package = root / "src" / "pkg"
    package.mkdir(parents=True)
    (root / "pyproject.toml").write_text('[project]\nname = "pkg"\n')
    (package / "__init__.py").write_text("")
    (package / "util.py").write_text(UTIL)
    (package / "text.py").write_text(PACKAGED)
    return package / "text.py"


def test_layouts_src_flat_and_loose(tmp_path: Path) -> None:
    from codegen.project.layout import find_layout

    text = _src_layout(tmp_path / "a")
    layout = find_layout(text, tmp_path / "a")
    assert (layout.root, layout.import_path, layout.module) == (tmp_path / "a", "src", "pkg.text")
    flat = tmp_path / "b" / "pkg" / "deep"
    flat.mkdir(parents=True)
    (tmp_path / "b" / "setup.cfg").write_text("")
    for folder in (flat, flat.parent):
        (folder / "__init__.py").write_text("")
    (flat / "mod.py").write_text("")
    layout = find_layout(flat / "mod.py", tmp_path / "b")
    assert (layout.import_path, layout.module) == (".", "pkg.deep.mod")
    loose = tmp_path / "c" / "tools"
    loose.mkdir(parents=True)
    (loose / "text.py").write_text(MODULE)
    layout = find_layout(loose / "text.py", tmp_path / "c")
    assert (layout.root, layout.import_path, layout.module) == (tmp_path / "c", "tools", "text")
    # a namespace package (no __init__.py) that the module's relative imports climb
    (loose / "rel.py").write_text("from .text import slugify\n")
    assert find_layout(loose / "rel.py", tmp_path / "c").module == "tools.rel"


def test_the_prompt_shows_the_module_and_what_it_imports_from_the_package(tmp_path: Path) -> None:
    from codegen.project.context import module_context

    text = _src_layout(tmp_path)
    context = module_context(text, PACKAGED, "slugify", tmp_path)
    where = (context.module, context.import_path, context.path)
    assert where == ("pkg.text", "src", "src/pkg/text.py")
    shown = context.prompt
    assert "from .util import normalize" in shown and 'SEPARATOR = "-"' in shown
    words = 'def _words(text: str) -> list[str]:\n    """The lower-case words of ``text``."""'
    assert words in shown
    assert "return re.findall" not in shown  # signatures, not bodies
    assert "def slugify" not in shown  # the stub is shown on its own
    assert "def untouched(x):" in shown
    assert "# src/pkg/util.py (pkg.util)\ndef normalize(text: str) -> str:" in shown
    assert "Longer explanation" not in shown and "class Table" not in shown  # only what it takes
    assert context.prompt_tokens == (len(shown) + 3) // 4
    # bounded: a small budget keeps the module's names and drops the rest
    small = module_context(text, PACKAGED, "slugify", tmp_path, max_tokens=60)
    assert small.prompt_tokens <= 60 and "def normalize" not in small.prompt
    assert module_context(text, PACKAGED, "slugify", tmp_path, max_tokens=0).prompt == ""


def test_the_context_is_in_the_prompt(tmp_path: Path) -> None:
    from codegen.generation.prompts import build_messages
    from codegen.project.target import function_problem

    text = _src_layout(tmp_path)
    problem = function_problem(f"{text}::slugify")
    user = build_messages(generation_task(problem), "simplest")[1]["content"]
    assert "Reuse it instead of re-implementing it" in user
    assert "def normalize(text: str) -> str:" in user and "def _words(" in user
    # without a module, no such section
    plain = problem.model_copy(update={"context": None})
    assert "Reuse it" not in build_messages(generation_task(plain), "simplest")[1]["content"]


def test_a_namespace_package_is_named_as_the_tests_import_it(tmp_path: Path) -> None:
    from codegen.project.context import module_context

    (tmp_path / "pkg").mkdir()
    (tmp_path / "tests").mkdir()
    (tmp_path / "pkg" / "text.py").write_text(MODULE)
    (tmp_path / "tests" / "test_text.py").write_text(
        "from pkg.text import slugify\n\n\ndef test_one():\n    assert slugify('A') == 'a'\n\n\n"
        "class TestMore:\n    def test_two(self):\n        assert slugify('B') == 'b'\n\n\n"
        "def test_other():\n    assert True\n"
    )
    context = module_context(tmp_path / "pkg" / "text.py", MODULE, "slugify", tmp_path)
    assert (context.module, context.import_path) == ("pkg.text", ".")
    assert context.repository_tests == (
        "tests/test_text.py::test_one",
        "tests/test_text.py::TestMore",
    )


def test_the_conftest_fixtures_join_the_tests(tmp_path: Path) -> None:
    (tmp_path / "tests").mkdir()
    (tmp_path / "text.py").write_text(MODULE)
    (tmp_path / "conftest.py").write_text(
        "import pytest\n\npytest_plugins = ['x']\n\n\ndef pytest_configure(config):\n    pass\n\n\n"
        "@pytest.fixture\ndef phrase():\n    return 'Hello, World'\n"
    )
    (tmp_path / "tests" / "conftest.py").write_text(
        "import pytest\nfrom text import slugify, untouched\n\n\n"
        "@pytest.fixture\ndef slug(phrase):\n    return slugify(phrase)\n"
    )
    (tmp_path / "tests" / "test_text.py").write_text(
        "from text import slugify\n\n\ndef test_fixture(phrase, slug):\n"
        "    assert slugify(phrase) == slug == 'hello-world'\n"
    )
    (stub,), _ = find_stubs(MODULE, str(tmp_path / "text.py"))
    problem = problem_for(stub, tmp_path)
    (test,) = [t for t in problem.visible_tests if t.origin == "file"]
    assert "def phrase():" in test.source and "def slug(phrase):" in test.source
    assert "pytest_configure" not in test.source and "pytest_plugins" not in test.source
    assert "from solution import slugify" in test.source
    assert "from text import untouched" in test.source
    order = [test.source.index(part) for part in ("def phrase", "def slug", "def test_fixture")]
    assert order == sorted(order)
