"""The one way tests run the CLI as users do: `codegen` as a subprocess (the caller's OpenAI
variables and caches never leak in), and the fake OpenAI server as a separate process that logs
every request it receives, so that a test can count the LLM calls a `codegen` run made (none on
a cache hit).

    with FakeServerProcess(script, tmp_path) as server:
        codegen("solve", ..., env={"OPENAI_API_BASE": server.base_url})
        server.requests()

The server is `python -m codegen.testing.fake_openai --log FILE`, the one users can run too.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
CODEGEN = [sys.executable, "-m", "codegen.cli"]
CLEAN_ENV = (
    "OPENAI_API_KEY", "OPENAI_API_BASE", "OPENAI_BASE_URL", "CODEGEN_CACHE", "CODEGEN_CONFIG"
)  # fmt: skip
TWO_SUM_HASH = """def two_sum(nums, target):
    seen = {}
    for j, x in enumerate(nums):
        if target - x in seen:
            return [seen[target - x], j]
        seen.setdefault(x, j)
    return []
"""


def fenced(code: str) -> dict[str, str]:
    """A scripted reply holding `code` the way models answer."""
    return {"content": f"Here you go:\n```python\n{code}```\n"}


def cli_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """The environment a CLI run gets: this one without OpenAI variables or caches, wide
    columns (rich wraps at 80 when stdout is not a terminal), no litellm download."""
    base = {k: v for k, v in os.environ.items() if k not in CLEAN_ENV and k[:7] != "OPENAI_"}
    return {**base, "LITELLM_LOCAL_MODEL_COST_MAP": "True", "COLUMNS": "200", **(extra or {})}


def codegen(
    *args: str,
    env: dict[str, str] | None = None,
    cwd: Path = ROOT,
    stdin: str | None = None,
    timeout: float = 300,
) -> subprocess.CompletedProcess[str]:
    """Run the real CLI, as a user would."""
    return subprocess.run(
        [*CODEGEN, *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        input=stdin,
        timeout=timeout,
        env=cli_env(env),
    )


def one_line(stderr: str) -> str:
    """The error line of a failed run; asserts it is exactly one line without a traceback."""
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1, stderr
    assert "Traceback" not in stderr
    return lines[0]


class FakeServerProcess:
    """Start the server process; `requests()` reads its log; stopped on exit, always."""

    def __init__(self, script: dict[str, Any], folder: Path) -> None:
        self.script_path = folder / "fake_script.json"
        self.log_path = folder / "fake_requests.jsonl"
        self.script_path.write_text(json.dumps(script))
        self.log_path.write_text("")
        self.process: subprocess.Popen[str] | None = None
        self.base_url = ""

    def __enter__(self) -> FakeServerProcess:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "codegen.testing.fake_openai", "--port", "0",
             "--script", str(self.script_path), "--log", str(self.log_path)],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            text=True,
        )  # fmt: skip
        assert self.process.stdout is not None
        self.base_url = self.process.stdout.readline().strip()
        if not self.base_url.startswith("http://127.0.0.1:"):
            self.__exit__()
            raise RuntimeError(f"fake server did not start: {self.base_url!r}")
        return self

    def __exit__(self, *exc: object) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)

    def requests(self, *, tester: bool = False) -> list[dict[str, Any]]:
        """The request bodies received so far, in arrival order: for candidates and judges, or
        (``tester``) the tester's."""
        lines = self.log_path.read_text().splitlines()
        entries = [json.loads(line) for line in lines if line.strip()]
        return [e["body"] for e in entries if e.get("tester", False) == tester]


def alive(pid: int) -> bool:
    """The process exists and is not a zombie (a server that was stopped)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:  # a zombie is dead for our purpose
        return "Z" not in Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0]
    except OSError:
        return False
