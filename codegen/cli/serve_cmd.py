"""`codegen serve`: run the service (HTTP, warm sandbox and models) until interrupted."""

from __future__ import annotations

import ipaddress
import sys
from pathlib import Path

import click

from codegen.cli import running
from codegen.errors import BadInput
from codegen.paths import user_dir

DEFAULT_PORT = 8787
LOOPBACK_NAMES = ("127.0.0.1", "localhost", "::1", "[::1]")


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=DEFAULT_PORT, show_default=True, type=click.IntRange(0, 65535),
              help="Port to listen on (0: any free one).")  # fmt: skip
@click.option("--db", type=click.Path(dir_okay=False, path_type=Path),
              show_default="~/.config/codegen/service.sqlite, or under $CODEGEN_HOME",
              help="The job store.")  # fmt: skip
@click.option("--config", "config_file", type=click.Path(path_type=Path),
              show_default="$CODEGEN_CONFIG, else the nearest codegen.toml or pyproject.toml",
              help="The config file: codegen.toml or pyproject.toml's [tool.codegen].")  # fmt: skip
@click.option("--max-running", default=4, show_default=True, type=click.IntRange(1, 256),
              help="Jobs run at once.")  # fmt: skip
@click.option("--max-pending", default=32, show_default=True, type=click.IntRange(1, 10_000),
              help="Jobs queued or running; past that a submit gets 429.")  # fmt: skip
@click.option("--per-token", default=8, show_default=True, type=click.IntRange(1, 10_000),
              help="Jobs queued or running per API token.")  # fmt: skip
@click.option("--executor", type=click.Choice(["local", "ray"]), default="local",
              show_default=True, help="The sandbox here, or on a Ray cluster.")  # fmt: skip
@click.option("--ray-address", metavar="HOST:PORT",
              show_default="$RAY_ADDRESS, else a local cluster",
              help="The Ray cluster (--executor ray).")  # fmt: skip
@click.option("--admin-token-file", type=click.Path(dir_okay=False, path_type=Path),
              show_default="none: each token sees its own jobs only",
              help="A file holding a token that sees and may cancel every job.")  # fmt: skip
@click.option("--grace", "grace_s", default=25.0, show_default=True,
              type=click.FloatRange(0, 3600),
              help="On SIGTERM: seconds running jobs get before they are interrupted.")  # fmt: skip
@click.option("--allowed-host", "allowed_hosts", multiple=True, metavar="NAME",
              show_default="none beyond the bound address's own names",
              help="Also answer this Host header (a proxy's name); on loopback only loopback "
              "names are answered by default.")  # fmt: skip
@click.option("--allow-project-path", "project_paths", multiple=True, metavar="DIR",
              type=click.Path(file_okay=False, exists=True, path_type=Path),
              show_default="none: a project comes as an archive",
              help="Requests may name a project folder under DIR.")  # fmt: skip
@click.option("--build-project-images", is_flag=True,
              help="Build a project's image from a request's dependencies (else only images "
              "built with `codegen sandbox build --project` are used).")  # fmt: skip
def serve(
    host: str,
    port: int,
    db: Path | None,
    config_file: Path | None,
    max_running: int,
    max_pending: int,
    per_token: int,
    executor: str,
    ray_address: str | None,
    admin_token_file: Path | None,
    grace_s: float,
    allowed_hosts: tuple[str, ...],
    project_paths: tuple[Path, ...],
    build_project_images: bool,
) -> None:
    """Serve the API (/v1, docs at /docs) and a page of jobs at /, until Ctrl-C. Loopback by
    default; any other address needs CODEGEN_API_TOKENS (comma-separated bearer tokens, one per
    tenant: each sees only its own jobs). SIGTERM drains: running jobs get --grace seconds.

    Exit codes: 0 stopped, 2 bad input (flags, config), 3 environment (Docker, the port, a
    model server), 130 interrupted.
    """
    from codegen.service.app import ServiceOptions, warm_for
    from codegen.service.auth import read_admin_token, tokens_from_env
    from codegen.service.projects import ProjectPolicy
    from codegen.service.server import run_service
    from codegen.settings import load_settings

    tokens = tokens_from_env()
    admin = read_admin_token(admin_token_file) if admin_token_file else None
    if admin is not None and admin in tokens:
        raise BadInput("the admin token is also a tenant token in CODEGEN_API_TOKENS; use another")
    if not _loopback(host) and not tokens and admin is None:
        raise BadInput(
            f"refusing to listen on {host} without API tokens: set CODEGEN_API_TOKENS="
            "token1[,token2] (clients send Authorization: Bearer TOKEN), or keep --host 127.0.0.1"
        )
    if ray_address and executor != "ray":
        raise BadInput("--ray-address needs --executor ray")
    warm = None
    if executor == "ray":
        settings = load_settings(config_file)
        backend_options = settings.sandbox.options | (
            {"address": ray_address} if ray_address else {}
        )
        ray = settings.sandbox.model_copy(update={"backend": "ray", "options": backend_options})
        warm = warm_for(settings, ray.open(settings.limits))
    options = ServiceOptions(
        db=db or user_dir() / "service.sqlite",
        config_file=config_file,
        max_running=max_running,
        max_pending=max_pending,
        per_owner=per_token,
        tokens=tokens,
        admin_token=admin,
        grace_s=grace_s,
        allowed_hosts=(*LOOPBACK_NAMES, *allowed_hosts) if _loopback(host) else ("*",),
        warm=warm,
        projects=ProjectPolicy(tuple(project_paths), build_project_images),
    )
    running.run(run_service(options, host, port, say=lambda line: print(line, file=sys.stderr)))


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
