"""A small project as users have them, for the end-to-end tests of solving in its context: a
`src/` package with a util module, a module whose marked function is to reuse the module's
helper, the package's function and numpy, `tests/` with a `conftest.py` fixture, and numpy as a
declared dependency."""

from __future__ import annotations

import subprocess
from pathlib import Path

PYPROJECT = """[project]
name = "textkit"
version = "0.1.0"
dependencies = ["numpy"]

[tool.pytest.ini_options]
pythonpath = ["src"]

[tool.codegen]
personas = ["simplest"]

[tool.codegen.sandbox]
timing_rounds = 3

[tool.codegen.jury]
enabled = false
"""
UTIL = '''"""Text shared by the package."""
import re


def normalize(text: str) -> str:
    """Lower case, every run of non-alphanumerics one space."""
    return re.sub(r"[^a-z0-9]+", " ", text.lower()).strip()
'''
STATS = '''"""Statistics of text."""
import numpy as np

from .util import normalize

ROUNDING = 6


def _words(text: str) -> list[str]:
    """The normalized words of ``text``."""
    return normalize(text).split()


def mean_word_length(text: str, *, ignore: str = "") -> float:  # codegen: solve
    """The mean length of the words of ``text``, leaving out the words of ``ignore`` (both
    normalized alike), rounded to ROUNDING digits; 0.0 when no word is left.

    >>> mean_word_length("One, three!")
    4.0
    """
    ...


def untouched(x):
    return x   # odd spacing that must survive
'''
CONFTEST = """import pytest


@pytest.fixture
def phrase() -> str:
    return "The quick, brown FOX"
"""
TESTS = """from textkit.stats import mean_word_length


def test_the_fixture_phrase(phrase):
    assert mean_word_length(phrase) == 4.0


def test_ignored_words(phrase):
    assert mean_word_length(phrase, ignore="THE") == round(13 / 3, 6)


def test_nothing_left():
    assert mean_word_length("") == 0.0
    assert mean_word_length("a a", ignore="A") == 0.0
"""
REUSES = """def mean_word_length(text: str, *, ignore: str = "") -> float:
    skipped = set(normalize(ignore).split())
    lengths = np.array([len(word) for word in _words(text) if word not in skipped], dtype=float)
    return round(float(lengths.mean()), ROUNDING) if lengths.size else 0.0
"""
REIMPLEMENTS = """import re


def mean_word_length(text: str, *, ignore: str = "") -> float:
    def words(value):
        return re.sub(r"[^a-z0-9]+", " ", value.lower()).split()

    skipped = set(words(ignore))
    kept = [len(word) for word in words(text) if word not in skipped]
    return round(sum(kept) / len(kept), 6) if kept else 0.0
"""
FILES = {
    "pyproject.toml": PYPROJECT,
    "src/textkit/__init__.py": '"""Text tools."""\n',
    "src/textkit/util.py": UTIL,
    "src/textkit/stats.py": STATS,
    "tests/conftest.py": CONFTEST,
    "tests/test_stats.py": TESTS,
}
MODULE = "src/textkit/stats.py"
FUNCTION = f"{MODULE}::mean_word_length"
GIT_IDENTITY = {
    "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com",
    "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.com",
}  # fmt: skip


def write_project(where: Path, git: bool = True) -> Path:
    """The project in ``where`` (a git repository when ``git``), its files not committed."""
    for name, text in FILES.items():
        (where / name).parent.mkdir(parents=True, exist_ok=True)
        (where / name).write_text(text)
    if git:
        subprocess.run(["git", "init", "-q"], cwd=where, check=True)
    return where


def body_of(code: str) -> str:
    """The function's body as `--fix` writes it under the signature and docstring."""
    return "".join(f"{line}\n" if line else "\n" for line in code.splitlines()[1:])
