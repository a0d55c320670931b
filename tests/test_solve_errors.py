"""Each bad input to `codegen solve` is one clear line on stderr with its documented exit code:
2 for the user's files and flags, 3 for the environment (Docker, a model server)."""

from __future__ import annotations

import socket
import time
from pathlib import Path

import pytest

from tests.cli_support import ROOT, FakeServerProcess, codegen, one_line

STUB = ROOT / "examples" / "sum_squares" / "problem.py"


def _closed_port_url() -> str:
    """A loopback URL nothing listens on (the port was free a moment ago)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/v1"


def test_missing_problem_file() -> None:
    done = codegen("solve", "no/such/problem.py", "--models", "openai/x")
    assert done.returncode == 2
    assert "no/such/problem.py: no such file" in one_line(done.stderr)


def test_stub_with_no_function(tmp_path: Path) -> None:
    stub = tmp_path / "empty.py"
    stub.write_text('"""Only a docstring."""\nVALUE = 1\n')
    done = codegen("solve", str(stub), "--models", "openai/x")
    assert done.returncode == 2
    assert "no top-level function" in one_line(done.stderr)


def test_unknown_model_name() -> None:
    done = codegen("solve", str(STUB), "--models", "no-such-model-anywhere")
    assert done.returncode == 2
    line = one_line(done.stderr)
    assert "unknown model 'no-such-model-anywhere'" in line and "openai/" in line


@pytest.mark.parametrize(
    ("config", "flags"),
    [("workers = []\n", ()), ("", ("--models", ","))],
    ids=["config-workers-empty", "models-flag-empty"],
)
def test_empty_roster(tmp_path: Path, config: str, flags: tuple[str, ...]) -> None:
    (tmp_path / "codegen.toml").write_text(config)
    done = codegen("solve", str(STUB), *flags, cwd=tmp_path)
    assert done.returncode == 2
    assert "empty" in one_line(done.stderr)


def test_stdin_task_needs_an_entry_point() -> None:
    done = codegen("solve", "-", "--models", "openai/x", stdin="Add two numbers.")
    assert done.returncode == 2
    assert "--entry" in one_line(done.stderr)


def test_no_docker() -> None:
    done = codegen(
        "solve", str(STUB), "--models", "openai/x",
        env={"DOCKER_HOST": "unix:///nonexistent/docker.sock",
             "OPENAI_API_BASE": _closed_port_url()},
    )  # fmt: skip
    assert done.returncode == 3
    line = one_line(done.stderr)
    assert "Docker engine is not reachable at unix:///nonexistent/docker.sock" in line
    assert "no Docker engine is running" in line
    # a fix a pip user can run, not a script of this repository, and no raw exception tuple
    assert "systemctl start docker" in line and "docker info" in line
    assert "scripts/" not in line and "('" not in line and "Errno" not in line


def test_the_docker_message_names_the_fix_for_each_cause() -> None:
    from sandbox.engine import unreachable

    denied = unreachable(PermissionError(13, "Permission denied"))
    assert "permission denied" in denied and "usermod -aG docker" in denied
    refused = unreachable(ConnectionRefusedError(111, "Connection refused"))
    assert "nothing answers there" in refused and "DOCKER_HOST" in refused


@pytest.mark.docker
def test_unreachable_model_server() -> None:
    url = _closed_port_url()
    done = codegen("solve", str(STUB), "--models", "openai/x", env={"OPENAI_API_BASE": url})
    assert done.returncode == 3
    line = one_line(done.stderr)
    assert "cannot reach the model server" in line and url in line


@pytest.mark.docker
def test_tests_that_fail_to_import(tmp_path: Path) -> None:
    (tmp_path / "problem.py").write_text('def double(n: int) -> int:\n    """Twice n."""\n')
    (tmp_path / "test_double.py").write_text(
        "from solution import double\n\nLIMIT = int('not a number')\n\n"
        "def test_double():\n    assert double(2) == 4\n"
    )
    done = codegen(
        "solve", str(tmp_path), "--models", "openai/x", env={"OPENAI_API_BASE": _closed_port_url()}
    )
    assert done.returncode == 2
    line = one_line(done.stderr)
    assert "tests do not load" in line and "not a number" in line


@pytest.mark.docker
def test_a_test_file_without_a_test_is_bad_input_for_solve_and_rank(tmp_path: Path) -> None:
    """pytest collecting nothing fails every candidate alike: the file's fault, said before any
    model is waited on (solve) or any candidate is ranked (rank)."""
    (tmp_path / "problem.py").write_text('def double(n: int) -> int:\n    """Twice n."""\n')
    (tmp_path / "test_double.py").write_text("from solution import double\n")
    (tmp_path / "double.py").write_text("def double(n):\n    return 2 * n\n")
    solved = codegen(
        "solve", str(tmp_path), "--models", "openai/x", env={"OPENAI_API_BASE": _closed_port_url()}
    )
    ranked = codegen("rank", str(tmp_path), str(tmp_path / "double.py"))
    assert solved.returncode == ranked.returncode == 2, solved.stderr + ranked.stderr
    assert "test_double.py: pytest collected no test" in one_line(solved.stderr)
    assert "test_double.py: pytest collected no test" in ranked.stderr.splitlines()[-1]


@pytest.mark.docker
def test_a_broken_strategy_is_bad_input_found_beside_the_models(tmp_path: Path) -> None:
    """The inputs are drawn while the models write (they depend on the problem alone), so a
    ``strategies.py`` that is no strategy is exit 2, not a failed run after they answered."""
    (tmp_path / "problem.py").write_text('def double(n: int) -> int:\n    """Twice n."""\n')
    (tmp_path / "test_double.py").write_text(
        "from solution import double\n\ndef test_double():\n    assert double(2) == 4\n"
    )
    (tmp_path / "strategies.py").write_text("inputs = 42\n")
    slow = {"models": {"slow": [{"content": "```python\ndef double(n): return 2 * n\n```",
                                 "delay_s": 120}]}}  # fmt: skip
    with FakeServerProcess(slow, tmp_path) as server:
        started = time.monotonic()
        done = codegen("solve", str(tmp_path), "--models", "openai/slow",
                       env={"OPENAI_API_BASE": server.base_url})  # fmt: skip
        waited = time.monotonic() - started
    assert done.returncode == 2, done.stderr
    assert "strategies.py: must define `inputs`" in one_line(done.stderr)
    assert waited < 60  # the model's reply (120 s) was not waited for


@pytest.mark.docker
def test_a_container_runtime_docker_does_not_have(tmp_path: Path) -> None:
    """[sandbox] runtime passes through to Docker; one it lacks is one line, exit 3."""
    (tmp_path / "codegen.toml").write_text('[sandbox]\nruntime = "no-such-runtime"\n')
    done = codegen("solve", str(STUB), "--models", "openai/x", cwd=tmp_path,
                   env={"OPENAI_API_BASE": _closed_port_url()})  # fmt: skip
    assert done.returncode == 3
    line = one_line(done.stderr)
    assert "container runtime 'no-such-runtime' is not installed in Docker" in line
    assert "runc" in line  # what it has


def test_an_unknown_sandbox_backend_is_bad_input(tmp_path: Path) -> None:
    (tmp_path / "codegen.toml").write_text('[sandbox]\nbackend = "vm"\n')
    done = codegen("solve", str(STUB), "--models", "openai/x", cwd=tmp_path)
    assert done.returncode == 2
    known = "(known: docker, ray, strict, unsafe-local)"
    assert f"sandbox.backend: unknown backend 'vm' {known}" in one_line(done.stderr)
