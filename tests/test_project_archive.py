"""A project's source packed for a service and unpacked there, safely (pure file work)."""

from __future__ import annotations

import base64
import io
import subprocess
import tarfile
from pathlib import Path

import pytest

from codegen.errors import BadInput
from codegen.project.archive import pack, unpack
from codegen.project.snapshot import remove, take_snapshot


def _tar(members: list[tuple[tarfile.TarInfo, bytes]]) -> str:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for info, data in members:
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return base64.b64encode(buffer.getvalue()).decode()


def _project(root: Path) -> Path:
    (root / "src" / "pkg").mkdir(parents=True)
    (root / "src" / "pkg" / "text.py").write_text("X = 1\n")
    (root / ".env").write_text("SECRET=1\n")
    (root / "venv").mkdir()
    (root / "venv" / "pyvenv.cfg").write_text("home = /usr\n")
    (root / "venv" / "lib.py").write_text("")
    (root / "data.txt").symlink_to("/etc/hostname")
    (root / "ignored.log").write_text("noise\n")
    (root / ".gitignore").write_text("*.log\n")
    subprocess.run(["git", "init", "-q"], cwd=root, check=True)
    return root


def test_what_is_mounted_and_packed_is_the_source(tmp_path: Path) -> None:
    root = _project(tmp_path / "p")
    snapshot = take_snapshot(root)
    try:
        files = sorted(
            p.relative_to(snapshot).as_posix() for p in snapshot.rglob("*") if p.is_file()
        )
        assert files == ["src/pkg/text.py"]  # no dotfile, venv, symlink or ignored file
        assert (snapshot.stat().st_mode & 0o777) == 0o755  # the sandbox's users read it
    finally:
        remove(snapshot)
    unpacked = unpack(pack(root))
    try:
        assert (unpacked / "src" / "pkg" / "text.py").read_text() == "X = 1\n"
        assert not (unpacked / ".env").exists()
    finally:
        remove(unpacked)


@pytest.mark.parametrize(
    ("member", "says"),
    [
        (tarfile.TarInfo("../escape.py"), "outside the project"),
        (tarfile.TarInfo("/etc/passwd"), "outside the project"),
    ],
)
def test_an_archive_that_leaves_the_folder_is_refused(member: tarfile.TarInfo, says: str) -> None:
    with pytest.raises(BadInput, match=says):
        unpack(_tar([(member, b"x")]))


def test_links_garbage_and_bombs_are_refused() -> None:
    link = tarfile.TarInfo("link")
    link.type, link.linkname = tarfile.SYMTYPE, "/etc/passwd"
    with pytest.raises(BadInput, match="not a regular file"):
        unpack(_tar([(link, b"")]))
    with pytest.raises(BadInput, match="not base64"):
        unpack("%%%")
    with pytest.raises(BadInput, match="not a readable .tar.gz"):
        unpack(base64.b64encode(b"plain bytes").decode())
    big = tarfile.TarInfo("zeros.bin")  # 80 MB of zeros: a small archive, too large unpacked
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        big.size = 80 << 20
        archive.addfile(big, io.BytesIO(bytes(big.size)))
    with pytest.raises(BadInput, match="MB unpacked"):
        unpack(base64.b64encode(buffer.getvalue()).decode())
