"""A project's dependencies read from its files (pure), and what a problem needs of them."""

from __future__ import annotations

from pathlib import Path

import pytest

from codegen.errors import BadInput
from codegen.project.dependencies import (
    DependencySettings,
    dependency_settings,
    read_dependencies,
)
from codegen.project.needs import needed

PYPROJECT = """
[project]
name = "My_Pkg"
dependencies = ["numpy>=1.26", "pytest>=8", "my-pkg[extra]"]

[project.optional-dependencies]
test = ["pytest-cov", "hypothesis", "more-itertools==10.*"]

[dependency-groups]
lint = ["ruff"]
dev = [{include-group = "lint"}, "attrs"]

[tool.codegen.project]
extras = ["test"]
"""


def test_pyproject_dependencies_with_an_extra_and_a_group(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(PYPROJECT)
    settings = dependency_settings(tmp_path)
    assert settings.extras == ["test"]
    spec = read_dependencies(tmp_path, settings)
    assert spec.requirements == ("more-itertools==10.*", "numpy>=1.26")
    assert spec.left_out == ("hypothesis", "pytest-cov", "pytest>=8")  # the sandbox's own
    assert spec.source == "pyproject.toml [project.dependencies], extra test"
    grouped = read_dependencies(tmp_path, DependencySettings(groups=["dev"]))
    assert grouped.requirements == ("attrs", "numpy>=1.26", "ruff")  # include-group followed
    with pytest.raises(BadInput, match="no extra 'docs' \\(it has: test\\)"):
        read_dependencies(tmp_path, DependencySettings(extras=["docs"]))
    # another list is another digest: another image
    assert grouped.digest() != spec.digest()


def test_a_requirements_file_and_its_includes(tmp_path: Path) -> None:
    (tmp_path / "requirements.txt").write_text(
        "# runtime\n-r base.txt\nrequests==2.32.3 --hash=sha256:abc\n--index-url https://x\n"
    )
    (tmp_path / "base.txt").write_text("numpy  # arrays\n-e .\n")
    spec = read_dependencies(tmp_path)
    assert spec.requirements == ("numpy", "requests==2.32.3") and spec.source == "requirements.txt"
    (tmp_path / "loop.txt").write_text("-r ../outside.txt\n")
    with pytest.raises(BadInput, match="outside the project"):
        read_dependencies(tmp_path, DependencySettings(requirements="loop.txt"))


def test_a_uv_lock_pins_what_the_project_reaches(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "app"\ndependencies = ["a"]\n')
    (tmp_path / "uv.lock").write_text(
        'version = 1\n\n[[package]]\nname = "app"\nversion = "0.1"\nsource = { editable = "." }\n'
        'dependencies = [{ name = "a" }]\n[package.optional-dependencies]\nx = [{ name = "c" }]\n\n'
        '[[package]]\nname = "a"\nversion = "1.0"\ndependencies = [{ name = "b" }]\n\n'
        '[[package]]\nname = "b"\nversion = "2.0"\n\n[[package]]\nname = "c"\nversion = "3.0"\n\n'
        '[[package]]\nname = "unused"\nversion = "9"\n'
    )
    assert read_dependencies(tmp_path).requirements == ("a==1.0", "b==2.0")
    with_extra = read_dependencies(tmp_path, DependencySettings(extras=["x"]))
    assert with_extra.requirements == ("a==1.0", "b==2.0", "c==3.0")
    assert with_extra.source == "uv.lock"


def test_no_dependencies_at_all(tmp_path: Path) -> None:
    assert read_dependencies(tmp_path).empty
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "x"\ndependencies = []\n')
    assert read_dependencies(tmp_path).empty


def test_what_a_problem_needs_follows_the_package(tmp_path: Path) -> None:
    package = tmp_path / "src" / "pkg"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("from .text import slugify\n")
    (package / "util.py").write_text("import numpy as np\nimport json\n")
    (package / "pure.py").write_text("import re\n")
    roots = [tmp_path / "src", tmp_path]
    text = "from .util import normalize\nimport collections\n"
    assert needed([(text, "pkg.text")], roots) == {"numpy"}  # through the package's util
    assert needed([("from . import pure\n", "pkg.text")], roots) == set()
    tests = "import pytest\nfrom solution import f\nfrom hypothesis import given\nimport yaml\n"
    assert needed([(tests, "")], roots) == {"yaml"}
