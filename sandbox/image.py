"""The sandbox image: built from the recipes in images/, tagged by a hash of the recipe and the
harness, built once. Both ship inside the package, so every install and every node gets the
same tag.

Two recipes, chosen automatically: ``Dockerfile.registry`` (FROM python:3.11-slim) when the
engine has or can pull that image, otherwise ``Dockerfile.debian`` on a base made here with
debootstrap and ``docker import``, which needs no registry at all.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import tempfile
from collections.abc import Callable
from pathlib import Path

import docker
from docker.errors import APIError, DockerException, ImageNotFound

from .errors import SandboxUnavailable

# Shipped in the wheel as package data (in a checkout, sandbox/images links to images/).
IMAGES_DIR = Path(__file__).resolve().parent / "images"
HARNESS_DIR = Path(__file__).resolve().parent / "harness"
REPOSITORY = "codegen-sandbox"
REGISTRY_BASE = "python:3.11-slim"
DEBIAN_BASE = "codegen-base:bookworm"
RECIPE_LABEL = "codegen.sandbox.recipe"

Progress = Callable[[str], None]


def _harness_files() -> list[Path]:
    return sorted(HARNESS_DIR.glob("*.py"))


def recipe_hash(recipe: str) -> str:
    """A hash of everything that goes into the image: the Dockerfile and the harness code."""
    digest = hashlib.sha256()
    for path in [IMAGES_DIR / recipe, *_harness_files()]:
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:12]


def image_tag(recipe: str) -> str:
    return f"{REPOSITORY}:{recipe.removeprefix('Dockerfile.')}-{recipe_hash(recipe)}"


def _has_image(client: docker.DockerClient, name: str) -> bool:
    try:
        client.images.get(name)
        return True
    except ImageNotFound:
        return False


def choose_recipe(client: docker.DockerClient) -> str:
    """The registry recipe when python:3.11-slim is here or pullable, the Debian one otherwise."""
    if os.environ.get("CODEGEN_IMAGE_RECIPE"):
        return os.environ["CODEGEN_IMAGE_RECIPE"]
    if _has_image(client, REGISTRY_BASE):
        return "Dockerfile.registry"
    try:
        client.images.pull(REGISTRY_BASE)
        return "Dockerfile.registry"
    except DockerException:
        return "Dockerfile.debian"


def find_image(client: docker.DockerClient) -> str | None:
    """The tag of an already-built image for the current recipes, if any."""
    for recipe in ("Dockerfile.registry", "Dockerfile.debian"):
        if _has_image(client, image_tag(recipe)):
            return image_tag(recipe)
    return None


def ensure_image(client: docker.DockerClient, progress: Progress = lambda _: None) -> str:
    """Return the sandbox image's tag, building it first when this recipe was never built."""
    existing = find_image(client)
    if existing:
        return existing
    recipe = choose_recipe(client)
    tag = image_tag(recipe)
    build_args = {}
    if recipe == "Dockerfile.debian":
        build_args["BASE_IMAGE"] = ensure_debian_base(client, progress)
    progress(f"building {tag} from images/{recipe}")
    with tempfile.TemporaryDirectory() as context:
        shutil.copy(IMAGES_DIR / recipe, Path(context) / "Dockerfile")
        shutil.copytree(
            HARNESS_DIR, Path(context) / "harness", ignore=shutil.ignore_patterns("__pycache__")
        )
        _build(client, context, tag, build_args, progress)
    _remove_stale_images(client, keep=tag)
    return tag


def _build(
    client: docker.DockerClient, context: str, tag: str, build_args: dict, progress: Progress
) -> None:
    last = ""
    try:
        for chunk in client.api.build(
            path=context,
            tag=tag,
            buildargs=build_args,
            rm=True,
            forcerm=True,
            decode=True,
            labels={RECIPE_LABEL: tag},
        ):
            if "error" in chunk:
                raise SandboxUnavailable(f"building the sandbox image failed: {chunk['error']}")
            line = chunk.get("stream", "").strip()
            if line:
                last = line
                progress(line)
    except APIError as error:
        raise SandboxUnavailable(f"building the sandbox image failed: {error} ({last})") from None


def ensure_debian_base(client: docker.DockerClient, progress: Progress) -> str:
    """Make the registry-free base image with debootstrap (about 30–60 s, once per machine)."""
    if _has_image(client, DEBIAN_BASE):
        return DEBIAN_BASE
    if shutil.which("debootstrap") is None:
        raise SandboxUnavailable(
            "no registry is reachable and debootstrap is missing: install it with "
            "`apt-get install -y debootstrap` (scripts/ensure-docker.sh does)"
        )
    progress("creating a Debian bookworm base with debootstrap (about a minute)")
    with tempfile.TemporaryDirectory(prefix="codegen-rootfs-") as rootfs:
        run = subprocess.run(
            ["debootstrap", "--variant=minbase", "--include=python3-minimal", "bookworm", rootfs],
            capture_output=True,
            text=True,
        )
        if run.returncode != 0:
            tail = (run.stderr or run.stdout).strip().splitlines()[-1:] or ["no output"]
            raise SandboxUnavailable(f"debootstrap failed: {tail[0]}")
        progress("importing the base into Docker")
        tar = subprocess.Popen(["tar", "-C", rootfs, "-c", "."], stdout=subprocess.PIPE)
        assert tar.stdout is not None  # stdout=PIPE
        try:
            client.api.import_image_from_stream(
                tar.stdout, repository=DEBIAN_BASE.split(":")[0], tag=DEBIAN_BASE.split(":")[1]
            )
        finally:
            tar.stdout.close()
            tar.wait()
    return DEBIAN_BASE


def _remove_stale_images(client: docker.DockerClient, keep: str) -> None:
    """Free the disk of images an upgrade left behind; ``CODEGEN_KEEP_IMAGES=1`` keeps them
    (several checkouts of different versions sharing one engine)."""
    if os.environ.get("CODEGEN_KEEP_IMAGES"):
        return
    for image in client.images.list(filters={"label": RECIPE_LABEL}):
        if keep not in image.tags:
            try:
                client.images.remove(image.id, noprune=False)
            except DockerException:
                pass
