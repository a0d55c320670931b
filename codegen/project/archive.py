"""A project's source as one archive, for a service: packed by the client (the files a snapshot
would take: :func:`codegen.project.snapshot.source_files`), unpacked by the service into a
folder of its own, safely: regular files and folders only, every name inside the folder, sizes
and counts bounded while reading (an archive that inflates past the bound is refused, not
written). Nothing in it runs on either side."""

from __future__ import annotations

import base64
import binascii
import io
import shutil
import tarfile
import tempfile
from pathlib import Path, PurePosixPath

from codegen.errors import BadInput
from codegen.project.snapshot import source_files

MAX_PACKED = 3 << 20  # bytes of the archive itself (the service's body limit is 4 MiB)
MAX_UNPACKED = 64 << 20
MAX_MEMBERS = 5000


def pack(root: Path) -> str:
    """The project's source as base64 of a .tar.gz; BadInput when it is over MAX_PACKED."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for relative in source_files(root):
            info = tarfile.TarInfo(relative.as_posix())
            data = (root / relative).read_bytes()
            info.size, info.mode = len(data), 0o644
            archive.addfile(info, io.BytesIO(data))
    packed = buffer.getvalue()
    if len(packed) > MAX_PACKED:
        raise BadInput(
            f"{root}: the project's source is {len(packed) >> 20} MB packed, over the service's "
            f"{MAX_PACKED >> 20} MB; keep data out of it, or have the service's operator allow "
            "a folder on the server (codegen serve --allow-project-path)"
        )
    return base64.b64encode(packed).decode()


def unpack(encoded: str) -> Path:
    """A new folder holding the archive's files; the caller removes it. BadInput names what
    is wrong with the archive."""
    try:
        data = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        raise BadInput("project.archive: not base64") from None
    if len(data) > MAX_PACKED:
        raise BadInput(f"project.archive: over {MAX_PACKED >> 20} MB")
    target = Path(tempfile.mkdtemp(prefix="codegen-upload-"))
    try:
        _extract(data, target)
    except BaseException:
        shutil.rmtree(target, ignore_errors=True)
        raise
    return target


def _extract(data: bytes, target: Path) -> None:
    total = members = 0
    try:
        with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as archive:
            for member in archive:
                members += 1
                if members > MAX_MEMBERS:
                    raise BadInput(f"project.archive: over {MAX_MEMBERS} files")
                name = PurePosixPath(member.name)
                if name.is_absolute() or ".." in name.parts or not name.parts:
                    raise BadInput(f"project.archive: {member.name!r} is outside the project")
                path = target.joinpath(*name.parts)
                if member.isdir():
                    path.mkdir(parents=True, exist_ok=True)
                    continue
                if not member.isfile():
                    raise BadInput(f"project.archive: {member.name!r} is not a regular file")
                source = archive.extractfile(member)
                assert source is not None
                path.parent.mkdir(parents=True, exist_ok=True)
                with path.open("wb") as sink:
                    while chunk := source.read(1 << 16):
                        total += len(chunk)
                        if total > MAX_UNPACKED:
                            raise BadInput(
                                f"project.archive: over {MAX_UNPACKED >> 20} MB unpacked"
                            )
                        sink.write(chunk)
    except (tarfile.TarError, EOFError, OSError, ValueError) as error:
        raise BadInput(f"project.archive: not a readable .tar.gz ({error})") from None
