"""A project's image, through the CLI users run: `codegen sandbox build --project PATH` builds it
once (wheels downloaded on the host, installed in the build), a second run reuses it, a changed
dependency list is another tag, and a dependency that cannot be installed is one line naming
it. The images are the test's own (its dependency lists), removed before and after."""

from __future__ import annotations

import time
from pathlib import Path

import docker
import pytest

from tests.cli_support import codegen

pytestmark = [pytest.mark.docker, pytest.mark.slow]


def _project(where: Path, dependencies: list[str]) -> Path:
    where.mkdir(parents=True, exist_ok=True)
    listed = ", ".join(f'"{d}"' for d in dependencies)
    (where / "pyproject.toml").write_text(f'[project]\nname = "p"\ndependencies = [{listed}]\n')
    return where


def _remove(tag: str) -> None:
    try:
        docker.from_env().images.remove(tag, force=True)
    except docker.errors.ImageNotFound:
        pass


def test_built_once_reused_and_a_changed_list_is_another_image(tmp_path: Path) -> None:
    project = _project(tmp_path / "p", ["more-itertools==10.5.0"])
    first_try = codegen("sandbox", "build", "--project", str(project), timeout=900)
    assert first_try.returncode == 0, first_try.stderr
    tag = first_try.stdout.strip()
    assert tag.startswith("codegen-project:")
    _remove(tag)  # built by an earlier session maybe: build it here, from nothing
    tags = []
    try:
        started = time.monotonic()
        built = codegen("sandbox", "build", "--project", str(project), timeout=900)
        first = time.monotonic() - started
        started = time.monotonic()
        again = codegen("sandbox", "build", "--project", str(project), timeout=900)
        second = time.monotonic() - started
        assert built.returncode == 0 and again.returncode == 0, built.stderr + again.stderr
        assert built.stdout.strip() == again.stdout.strip() == tag
        assert f"{tag}: built in" in built.stderr and f"{tag}: already built" in again.stderr
        print(f"\nfirst build {first:.1f} s, second run {second:.1f} s")  # the figures, with -s
        image = docker.from_env().images.get(tag)
        deps = docker.from_env().containers.run(
            tag, ["python3", "-c", "import more_itertools, sys; print(more_itertools.__file__)"],
            remove=True, network_disabled=True,
        )  # fmt: skip
        assert deps.decode().startswith("/opt/codegen/deps/more_itertools/")
        assert image.attrs["Size"] > 0

        _project(project, ["more-itertools==10.5.0", "six==1.16.0"])
        changed = codegen("sandbox", "build", "--project", str(project), timeout=900)
        assert changed.returncode == 0, changed.stderr
        tags.append(changed.stdout.strip())
        assert tags[-1].startswith("codegen-project:") and tags[-1] != tag
    finally:
        for each in (tag, *tags):
            _remove(each)


def test_a_dependency_that_cannot_be_installed_is_one_line_naming_it(tmp_path: Path) -> None:
    project = _project(tmp_path / "p", ["codegen-no-such-package-for-tests==1.0"])
    done = codegen("sandbox", "build", "--project", str(project), timeout=600)
    assert done.returncode == 3, done.stderr
    assert "Traceback" not in done.stderr
    *progress, line = done.stderr.strip().splitlines()  # the error is the last line
    assert line.startswith("codegen: ") and "downloading wheels" in progress[-1]
    assert "cannot install codegen-no-such-package-for-tests==1.0 in the sandbox" in line
