"""Length-prefixed JSON frames: the only protocol between the host and the in-container server.

A frame is a 4-byte big-endian length followed by that many bytes of UTF-8 JSON. Candidates never
hold the file descriptors that carry frames, so text they print cannot be mistaken for one.
"""

from __future__ import annotations

import json
import os
import struct
from typing import Any

HEADER = struct.Struct(">I")
MAX_FRAME = 256 * 1024 * 1024


def encode(message: dict[str, Any]) -> bytes:
    body = json.dumps(message, separators=(",", ":")).encode()
    return HEADER.pack(len(body)) + body


def decode(body: bytes) -> dict[str, Any]:
    return json.loads(body)


def write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def write_frame(fd: int, message: dict[str, Any]) -> None:
    write_all(fd, encode(message))


def read_exact(fd: int, size: int) -> bytes | None:
    """Read exactly `size` bytes, or None at end of file."""
    chunks = []
    while size:
        chunk = os.read(fd, min(size, 1 << 20))
        if not chunk:
            return None
        chunks.append(chunk)
        size -= len(chunk)
    return b"".join(chunks)


def read_frame_body(fd: int) -> bytes | None:
    """The undecoded body of the next frame, or None at end of file."""
    header = read_exact(fd, HEADER.size)
    if header is None:
        return None
    (size,) = HEADER.unpack(header)
    if size > MAX_FRAME:
        raise ValueError(f"frame of {size} bytes is over the limit")
    return read_exact(fd, size)


def read_frame(fd: int) -> dict[str, Any] | None:
    body = read_frame_body(fd)
    return None if body is None else decode(body)
