"""A project's dependencies, read from its own files: what its image installs. Reads files with
``tomllib``; runs nothing of the project.

Where they come from, in order (the first the project has, unless ``[tool.codegen.project]``
names one):

- a lock file, ``uv.lock``: the packages the project's dependencies (and the named extras and
  groups) reach, each pinned to its locked version;
- ``pyproject.toml``: ``[project.dependencies]``, plus the named ``extras``
  (``[project.optional-dependencies]``) and ``groups`` (``[dependency-groups]``, PEP 735);
- a requirements file (``requirements.txt``, or the one named), ``-r`` includes followed.

With no ``[tool.codegen.project]``, the extras and groups named ``test``, ``tests`` or
``testing`` come along: the project's tests run in the sandbox too. What the sandbox brings
itself is left out (pytest and its plugins, hypothesis: the harness pins its own), and so is
the project itself (its source is mounted).
"""

from __future__ import annotations

import hashlib
import re
import tomllib
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from codegen.errors import BadInput

TEST_LISTS = ("test", "tests", "testing")
PROVIDED = re.compile(r"^(pytest|pytest[-_].*|hypothesis|_pytest|pluggy)$")
_NAME = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)")
MAX_INCLUDES = 20


class DependencySettings(BaseModel):
    """``[tool.codegen.project]``: which of the project's dependency lists its image installs."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    extras: list[str] = Field(default_factory=list, description="[project.optional-dependencies]")
    groups: list[str] = Field(default_factory=list, description="[dependency-groups] (PEP 735)")
    requirements: str | None = Field(None, description="a requirements file, from the root")
    lock: str | None = Field(None, description="a uv.lock file, from the root")


class DependencySpec(BaseModel):
    """The requirements to install, and where they were read."""

    model_config = ConfigDict(frozen=True)

    requirements: tuple[str, ...] = ()
    source: str = Field("", description="the file (and tables) they were read from")
    left_out: tuple[str, ...] = Field((), description="provided by the sandbox itself")

    @property
    def empty(self) -> bool:
        return not self.requirements

    def digest(self) -> str:
        return hashlib.sha256("\n".join(self.requirements).encode()).hexdigest()[:12]


def project_name(name: str) -> str:
    """The normalized form of a distribution name (PEP 503)."""
    return re.sub(r"[-_.]+", "-", name).lower()


def read_dependencies(root: Path, settings: DependencySettings | None = None) -> DependencySpec:
    """The project's dependencies (see the module docstring); BadInput names a file that
    cannot be read or an extra, group or file that does not exist."""
    settings = settings or DependencySettings()
    pyproject = _toml(root / "pyproject.toml") if (root / "pyproject.toml").is_file() else {}
    own = project_name(str(pyproject.get("project", {}).get("name", "")))
    lock = settings.lock or ("uv.lock" if (root / "uv.lock").is_file() else None)
    if settings.requirements:
        lines, source = _requirements(root / settings.requirements, root), settings.requirements
    elif lock:
        lines, source = _locked(root / lock, own, settings), lock
    elif (
        pyproject.get("project", {}).get("dependencies") is not None
        or settings.extras
        or settings.groups
    ):
        lines, source = _declared(pyproject, settings), _described(settings)
    elif (root / "requirements.txt").is_file():
        lines, source = _requirements(root / "requirements.txt", root), "requirements.txt"
    else:
        return DependencySpec()
    kept: list[str] = []
    left: list[str] = []
    for line in lines:
        name = _name(line)
        if name is None or name == own:
            continue
        (left if PROVIDED.match(name) else kept).append(line.strip())
    return DependencySpec(
        requirements=tuple(sorted(set(kept))), source=source, left_out=tuple(sorted(set(left)))
    )


def dependency_settings(root: Path) -> DependencySettings:
    """``[tool.codegen.project]`` of the project's own config (codegen.toml, else
    pyproject.toml, at its root); the defaults when it has none."""
    for name, table in (
        ("codegen.toml", ("project",)),
        ("pyproject.toml", ("tool", "codegen", "project")),
    ):
        path = root / name
        if not path.is_file():
            continue
        data: object = _toml(path)
        for key in table:
            data = data.get(key, {}) if isinstance(data, dict) else {}
        if data:
            try:
                return DependencySettings.model_validate(data)
            except ValueError as error:
                first = str(error).splitlines()[1:3]
                raise BadInput(f"{path}: [{'.'.join(table)}]: {' '.join(first)}") from None
    return test_lists(root)


def test_lists(root: Path) -> DependencySettings:
    """The default: the project's extras and groups meant for its tests, if it has any."""
    if not (root / "pyproject.toml").is_file():
        return DependencySettings()
    data = _toml(root / "pyproject.toml")
    extras = data.get("project", {}).get("optional-dependencies") or {}
    groups = data.get("dependency-groups") or {}
    return DependencySettings(
        extras=[name for name in TEST_LISTS if name in extras],
        groups=[name for name in TEST_LISTS if name in groups],
    )


def _declared(pyproject: dict, settings: DependencySettings) -> list[str]:
    project = pyproject.get("project", {})
    lines = list(project.get("dependencies") or [])
    optional = project.get("optional-dependencies") or {}
    for extra in settings.extras:
        if extra not in optional:
            known = ", ".join(sorted(optional)) or "none"
            raise BadInput(f"pyproject.toml: no extra {extra!r} (it has: {known})")
        lines += optional[extra]
    groups = pyproject.get("dependency-groups") or {}
    for group in settings.groups:
        lines += _group(groups, group, set())
    return [line for line in lines if isinstance(line, str)]


def _group(groups: dict, name: str, seen: set[str]) -> list[str]:
    if name not in groups:
        raise BadInput(f"pyproject.toml: no dependency group {name!r} (it has: "
                       f"{', '.join(sorted(groups)) or 'none'})")  # fmt: skip
    if name in seen:
        return []
    seen.add(name)
    lines: list[str] = []
    for item in groups[name]:
        if isinstance(item, dict) and "include-group" in item:
            lines += _group(groups, str(item["include-group"]), seen)
        elif isinstance(item, str):
            lines.append(item)
    return lines


def _described(settings: DependencySettings) -> str:
    parts = ["pyproject.toml [project.dependencies]"]
    parts += [f"extra {extra}" for extra in settings.extras]
    parts += [f"group {group}" for group in settings.groups]
    return ", ".join(parts)


def _requirements(path: Path, root: Path, depth: int = 0) -> list[str]:
    """The requirement lines of a pip requirements file; ``-r`` files are followed, other
    options (indexes, ``-e``, constraints) left out: the sandbox installs from wheels."""
    if depth > MAX_INCLUDES:
        raise BadInput(f"{path}: requirements files include each other too deeply")
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise BadInput(f"{path}: cannot read the requirements: {error}") from None
    lines: list[str] = []
    for raw in text.replace("\\\n", " ").splitlines():
        line = raw.split(" #")[0].strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith(("-r ", "--requirement ")):
            included = (path.parent / line.split(maxsplit=1)[1]).resolve()
            if not included.is_relative_to(root.resolve()):
                raise BadInput(f"{path}: includes {included}, outside the project")
            lines += _requirements(included, root, depth + 1)
        elif not line.startswith("-"):
            lines.append(line.split(" --hash")[0].strip())
    return lines


def _locked(path: Path, own: str, settings: DependencySettings) -> list[str]:
    """``name==version`` of every package a uv.lock's project reaches through its
    dependencies, the named extras and groups (markers are the resolver's: all are kept)."""
    data = _toml(path)
    packages = {project_name(p.get("name", "")): p for p in data.get("package", [])}
    root = packages.get(own) or next(
        (p for p in packages.values() if (p.get("source") or {}).get("editable") == "."
         or (p.get("source") or {}).get("virtual") == "."), None,
    )  # fmt: skip
    if root is None:
        raise BadInput(f"{path}: the project itself is not in the lock file")
    todo = [d.get("name", "") for d in root.get("dependencies", [])]
    for extra in settings.extras:
        todo += [
            d.get("name", "") for d in (root.get("optional-dependencies") or {}).get(extra, [])
        ]
    for group in settings.groups:
        todo += [d.get("name", "") for d in (root.get("dev-dependencies") or {}).get(group, [])]
    pinned: dict[str, str] = {}
    while todo:
        name = project_name(todo.pop())
        if name in pinned or name not in packages or name == project_name(root.get("name", "")):
            continue
        package = packages[name]
        pinned[name] = f"{package['name']}=={package['version']}"
        todo += [d.get("name", "") for d in package.get("dependencies", [])]
    return list(pinned.values())


def _name(line: str) -> str | None:
    found = _NAME.match(line)
    return project_name(found.group(1)) if found else None


def _toml(path: Path) -> dict:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as error:
        raise BadInput(f"{path}: cannot read: {error}") from None
