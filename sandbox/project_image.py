"""A project's image: the sandbox image plus the project's dependencies, built once per set of
requirements and reused.

The layers follow SWE-bench's harness (a base image, an environment image per dependency set,
the instance on top), and the tag follows OpenHands' runtime images (a hash of what goes in):
``codegen-project:<hash of the base image's tag, the requirements, the platform and this
recipe>``. A changed requirement, a new sandbox image or another machine type is another tag;
the same ones find the image already built. The project's source is not in the image: it is
mounted read-only per run (:class:`sandbox.models.Project`).

Candidate containers have no network, so everything is installed at build time; and since pip
inside ``docker build`` has no working HTTPS here, the wheels are downloaded on the host first
(``pip download``, wheels only: no package's code runs on the host, not even a ``setup.py``)
into the build context, and installed from there with ``--no-index``. They go to
``/opt/codegen/deps``, on the path after the image's own packages, so that the harness's pinned
pytest and hypothesis stay the ones that run (``images/Dockerfile.project``).
"""

from __future__ import annotations

import hashlib
import json
import re
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import docker
from docker.errors import DockerException, ImageNotFound

from .engine import LABEL
from .errors import SandboxError, SandboxUnavailable
from .image import IMAGES_DIR, RECIPE_LABEL
from .owner import OWNER_LABEL, owner_id

REPOSITORY = "codegen-project"
RECIPE_FILE = IMAGES_DIR / "Dockerfile.project"
PROJECT_LABEL = "codegen.sandbox.project"
Progress = Callable[[str], None]


class DependencyError(SandboxError):
    """A requirement cannot be installed in the sandbox; the message names it."""


@dataclass(frozen=True)
class Interpreter:
    """The image's Python, as pip's download options name it."""

    version: str  # "311"
    platforms: tuple[str, ...]  # manylinux tags, newest first

    @property
    def label(self) -> str:
        return f"CPython {self.version[0]}.{self.version[1:]} on {self.platforms[0]} or older"


@dataclass(frozen=True)
class BuiltImage:
    tag: str
    built: bool  # False: it was there already
    seconds: float
    size_mb: float


def project_tag(base: str, requirements: Sequence[str], interpreter: Interpreter) -> str:
    """The image's tag: a hash of the base image's tag, the requirements, the platform and
    the recipe (the same inputs always find the same image)."""
    digest = hashlib.sha256()
    for part in (base, "\n".join(sorted(requirements)), interpreter.version,
                 ",".join(interpreter.platforms), RECIPE_FILE.read_text()):  # fmt: skip
        digest.update(part.encode() + b"\0")
    return f"{REPOSITORY}:{digest.hexdigest()[:16]}"


def interpreter_of(client: docker.DockerClient, base: str) -> Interpreter:
    """Ask the base image's Python (one short container, no network) for its version, its
    machine and its C library, which decide the wheels that fit it."""
    script = (
        "import json, platform, sys; "
        "print(json.dumps([sys.version_info[:2], platform.machine(), platform.libc_ver()]))"
    )
    try:
        output = _output_of(client, base, ["python3", "-c", script])
        (major, minor), machine, (libc, libc_version) = json.loads(output)
    except (DockerException, OSError, ValueError, TypeError) as error:  # OSError: a timeout
        raise SandboxUnavailable(f"cannot ask the sandbox image for its Python: {error}") from None
    glibc = int(str(libc_version).split(".")[1]) if libc == "glibc" and libc_version else 17
    platforms = [f"manylinux_2_{m}_{machine}" for m in range(glibc, 16, -1)]
    platforms += [f"manylinux2014_{machine}", f"manylinux2010_{machine}", f"manylinux1_{machine}"]
    return Interpreter(version=f"{major}{minor}", platforms=tuple(platforms))


def _output_of(client: docker.DockerClient, image: str, command: list[str]) -> bytes:
    """A short container's standard output, read after it exits. ``containers.run`` follows
    the log stream from the start, and a container that exits at once can leave it empty
    (docker/docker-py#3247; it failed a CI run under load: "Expecting value")."""
    container = client.containers.create(
        image, command, network_disabled=True, network_mode="none", user="65534:65534",
        read_only=True, labels={LABEL: "1", OWNER_LABEL: owner_id()},  # pruned if we die
    )  # fmt: skip
    try:
        container.start()
        status = container.wait(timeout=120).get("StatusCode")
        if status != 0:
            said = container.logs(stdout=False, stderr=True).decode(errors="replace").strip()
            raise DockerException(f"exit {status}: {said[-300:]}")
        return container.logs(stdout=True, stderr=False)
    finally:
        container.remove(force=True)


def find_project_image(client: docker.DockerClient, tag: str) -> bool:
    try:
        client.images.get(tag)
        return True
    except ImageNotFound:
        return False


def ensure_project_image(
    client: docker.DockerClient,
    base: str,
    requirements: Sequence[str],
    *,
    build: bool = True,
    progress: Progress = lambda _: None,
) -> BuiltImage:
    """The project's image for ``requirements`` on ``base``: found, or built (when ``build``).
    Raises DependencyError naming a requirement that cannot be installed."""
    started = time.monotonic()
    interpreter = interpreter_of(client, base)
    tag = project_tag(base, requirements, interpreter)
    if find_project_image(client, tag):
        return BuiltImage(tag, False, time.monotonic() - started, _size_mb(client, tag))
    if not build:
        raise SandboxUnavailable(
            f"the project's image {tag} is not built: build it with "
            "`codegen sandbox build --project PATH`"
        )
    with tempfile.TemporaryDirectory(prefix="codegen-project-image-") as context:
        wheels = Path(context) / "wheels"
        wheels.mkdir()
        (wheels / "requirements.txt").write_text("\n".join(requirements) + "\n")
        progress(f"downloading wheels for {len(requirements)} requirement(s) "
                 f"({interpreter.label})")  # fmt: skip
        download_wheels(wheels, requirements, interpreter)
        (Path(context) / "Dockerfile").write_text(RECIPE_FILE.read_text())
        progress(f"building {tag} from {base}")
        _build(client, context, tag, base, progress)
    return BuiltImage(tag, True, time.monotonic() - started, _size_mb(client, tag))


def download_wheels(target: Path, requirements: Sequence[str], interpreter: Interpreter) -> None:
    """``pip download`` on the host: wheels only, for the image's Python and platform, pip's
    own wheel included (the image has no pip)."""
    platforms = [arg for tag in interpreter.platforms for arg in ("--platform", tag)]
    command = [
        sys.executable, "-m", "pip", "download", "--disable-pip-version-check",
        "--only-binary=:all:", *platforms, "--python-version", interpreter.version,
        "--implementation", "cp", "--abi", f"cp{interpreter.version}", "--dest", str(target),
    ]  # fmt: skip
    for arguments in (["pip"], ["-r", str(target / "requirements.txt")]):
        try:
            done = subprocess.run(
                [*command, *arguments], capture_output=True, text=True, timeout=900, check=False
            )
        except (OSError, subprocess.TimeoutExpired) as error:
            raise DependencyError(f"pip download failed: {error}") from None
        if done.returncode != 0:
            raise DependencyError(why_not(done.stderr + done.stdout, interpreter))


def why_not(output: str, interpreter: Interpreter) -> str:
    """One line naming the requirement pip could not get, from its output."""
    for pattern in (
        r"No matching distribution found for ([^\s]+)",
        r"Could not find a version that satisfies the requirement ([^\s]+)",
    ):
        found = re.search(pattern, output)
        if found:
            return (
                f"cannot install {found.group(1)} in the sandbox: no wheel of it for "
                f"{interpreter.label} (the sandbox installs wheels only, at build time)"
            )
    if "No module named pip" in output:
        return "cannot download the project's dependencies: this Python has no pip"
    lines = [line for line in output.splitlines() if line.strip().startswith("ERROR")]
    tail = (lines or output.strip().splitlines() or ["no output"])[-1]
    return f"cannot download the project's dependencies: {tail.strip()[:300]}"


def _build(
    client: docker.DockerClient, context: str, tag: str, base: str, progress: Progress
) -> None:
    last = ""
    try:
        for chunk in client.api.build(
            path=context, tag=tag, buildargs={"BASE_IMAGE": base}, rm=True, forcerm=True,
            decode=True, labels={PROJECT_LABEL: "1", RECIPE_LABEL + ".base": base},
        ):  # fmt: skip
            if "error" in chunk:
                raise DependencyError(_build_error(chunk["error"], last))
            line = chunk.get("stream", "").strip()
            if line:
                last = line
                progress(line)
    except DockerException as error:
        raise SandboxUnavailable(f"building the project's image failed: {error}") from None


def _build_error(error: str, last: str) -> str:
    found = re.search(r"No matching distribution found for ([^\s]+)", last + error)
    if found:
        return f"cannot install {found.group(1)} in the sandbox image"
    return f"building the project's image failed: {error.strip()[:300]} ({last[:200]})"


def _size_mb(client: docker.DockerClient, tag: str) -> float:
    try:
        return client.images.get(tag).attrs.get("Size", 0) / 1e6
    except DockerException:
        return 0.0
