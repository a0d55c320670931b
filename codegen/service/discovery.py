"""Finding a local ``codegen serve`` without flags, as ``dmypy`` and language servers are found:
each running service writes a small record (its URL, pid, a token when it needs one, and the
config file it runs with) into ``<user dir>/servers/<pid>.json`` (mode 0600), and removes it
when it stops. ``codegen solve`` and the pre-commit hook use a service found here when

- its process is alive and it answers ``/readyz`` within a second (a record left by a killed
  service is removed on sight),
- it runs with the same config file as the local run would (the roster, limits and personas
  are the same: the answer is the one a local run would give),
- and nothing asks for a local run: ``--no-server``, ``--isolation strict`` (the service runs
  the warm pool), ``$CODEGEN_NO_SERVER``; an explicit ``--server URL`` or
  ``$CODEGEN_SERVER`` wins over what is found here.

The user directory is ``$CODEGEN_HOME`` (:mod:`codegen.paths`): tests and users keep services
apart by giving each its own, as they do for the job store.
"""

from __future__ import annotations

import contextlib
import json
import os
import time
from pathlib import Path

from pydantic import BaseModel, ValidationError

from codegen.config_path import find_config
from codegen.paths import user_dir
from codegen.service.transport import Transport, TransportError

READY_TIMEOUT_S = 1.0
NO_SERVER_ENV = "CODEGEN_NO_SERVER"  # set (to anything): never use a service found here


class ServerRecord(BaseModel):
    """What a running service says about itself to local clients."""

    url: str
    pid: int
    token: str | None = None  # a tenant token of its own, when the service needs tokens
    config: str | None = None  # the config file it runs with, resolved (None: the defaults)
    started: float = 0.0


def servers_dir() -> Path:
    return user_dir() / "servers"


def config_key(config_file: Path | None, start: Path | None = None) -> str | None:
    """The config file a run with ``--config config_file`` (None: the nearest one from
    ``start``) reads, as one comparable string."""
    path = config_file if config_file is not None else find_config(start)
    return str(path.resolve()) if path is not None else None


def advertise(record: ServerRecord) -> Path:
    """Write the service's record; readable by its user only (it may hold a token)."""
    folder = servers_dir()
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    path = folder / f"{record.pid}.json"
    temporary = path.with_suffix(".tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        handle.write(record.model_dump_json())
    temporary.replace(path)
    return path


def withdraw(path: Path) -> None:
    with contextlib.suppress(OSError):
        path.unlink()


def discover(config: str | None) -> ServerRecord | None:
    """The newest live, ready service running with ``config`` (see :func:`config_key`)."""
    folder = servers_dir()
    if not folder.is_dir():
        return None
    records = []
    for path in folder.glob("*.json"):
        record = _read(path)
        if record is None or not _alive(record.pid):
            withdraw(path)  # a service killed without its cleanup
            continue
        if record.config == config:
            records.append(record)
    for record in sorted(records, key=lambda r: r.started, reverse=True):
        if _ready(record):
            return record
    return None


def _read(path: Path) -> ServerRecord | None:
    try:
        return ServerRecord.model_validate(json.loads(path.read_text(encoding="utf-8")))
    except (OSError, ValueError, ValidationError):
        return None


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # another user's process: alive, and its record is not ours to remove
    return True


def _ready(record: ServerRecord) -> bool:
    headers = {"Authorization": f"Bearer {record.token}"} if record.token else {}
    try:
        answer = Transport(record.url, headers, READY_TIMEOUT_S).request("GET", "/readyz")
    except TransportError:
        return False
    return answer.status_code == 200


def local_server(
    config_file: Path | None, isolation: str | None, no_server: bool
) -> ServerRecord | None:
    """The local service a ``codegen solve`` or hook run without ``--server`` uses, if any."""
    if no_server or isolation == "strict" or os.environ.get(NO_SERVER_ENV):
        return None
    return discover(config_key(config_file))


def using_line(record: ServerRecord) -> str:
    """The one line that says so, on stderr."""
    return (
        f"codegen: using the codegen serve at {record.url} (pid {record.pid}); "
        "--no-server runs here"
    )


def record_for(url: str, token: str | None, config: str | None) -> ServerRecord:
    return ServerRecord(url=url, pid=os.getpid(), token=token, config=config, started=time.time())
