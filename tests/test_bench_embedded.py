"""`codegen bench run` with the embedded models: each gets one server of its own for the run,
stopped at the end, and the run keeps the names as typed (run key, store, leaderboard).

The servers are the scripted fake OpenAI server started through LocalRuntime's `command=` seam
(as in tests/test_local_models.py), one request log per model; the bench CLI runs in-process
(CliRunner) so that the test can hand LocalRuntime that seam and see the server processes."""

from __future__ import annotations

import json
import sqlite3
import sys
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from click.testing import CliRunner

from codegen.bench import embedded
from codegen.bench.embedded import EMBEDDED_TIMEOUT_S, serve_embedded
from codegen.bench.executors import LocalExecutor
from codegen.bench.runner import BenchSpec, check_models, jury_of
from codegen.bench.suites import load_suite
from codegen.errors import BadInput
from codegen.local_models import LocalRuntime, engine
from tests.bench_support import bench_env
from tests.cli_support import alive, codegen, fenced, one_line

SMALL, LARGE = "qwen2.5-coder-0.5b", "qwen2.5-coder-1.5b"
STUBS = {
    "square": 'def square(n: int) -> int:\n    """The square of n: square(3) == 9"""\n',
    "cube": 'def cube(n: int) -> int:\n    """The cube of n: cube(2) == 8"""\n',
}
HIDDEN = {
    "square": "def test_negative():\n    assert square(-2) == 4\n",
    "cube": "def test_negative():\n    assert cube(-2) == -8\n",
}
RIGHT = "def square(n):\n    return n * n\n\n\ndef cube(n):\n    return n * n * n\n"
WRONG = "def square(n):\n    return n * abs(n)\n\n\ndef cube(n):\n    return n * n * abs(n)\n"
TESTS = "```python\nassert square(-2) == 4\nassert cube(-2) == -8\n```"
DELAY_S = 0.3  # each reply takes this long: requests that overlapped at a server would show


def _suite(tmp_path: Path) -> Path:
    root = tmp_path / "suite"
    for name, stub in STUBS.items():
        (root / name / "hidden").mkdir(parents=True)
        (root / name / "problem.py").write_text(stub)
        (root / name / "hidden" / f"test_{name}.py").write_text(
            f"from solution import {name}\n\n\n{HIDDEN[name]}"
        )
    return root


def _script(tmp_path: Path) -> Path:
    """The replies of both servers: the small model right, the large one wrong."""
    script = {
        "models": {
            SMALL: [{**fenced(RIGHT), "delay_s": DELAY_S}],
            LARGE: [{**fenced(WRONG), "delay_s": DELAY_S}],
        },
        "testers": {
            SMALL: [{"content": TESTS, "delay_s": DELAY_S}],
            LARGE: [{"content": "No tests.", "delay_s": DELAY_S}],
        },
    }
    path = tmp_path / "script.json"
    path.write_text(json.dumps(script))
    return path


class _Runtimes:
    """Stands in for LocalRuntime in codegen.bench.embedded: the real class, serving the fake
    server (`--log` one file per model) instead of llama.cpp; remembers each runtime's pids."""

    def __init__(self, tmp_path: Path) -> None:
        self.script = _script(tmp_path)
        self.logs = tmp_path / "requests"
        self.logs.mkdir()
        self.folder = tmp_path
        self.started: list[dict[str, Any]] = []

    def command(self, gguf: Path, alias: str, port: int, threads: int, ctx: int) -> list[str]:
        log = self.logs / f"{alias}.jsonl"
        return [sys.executable, "-m", "codegen.testing.fake_openai", "--port", str(port),
                "--script", str(self.script), "--log", str(log)]  # fmt: skip

    def __call__(self, models: list[str], **options: Any) -> LocalRuntime:
        runtimes = self

        class Recorded(LocalRuntime):
            def start(self) -> None:
                super().start()
                runtimes.started.append(
                    {"models": list(models), "slots": self.slots, "pids": self.pids}
                )

        options.update(command=self.command, log_dir=self.folder / "server-logs")
        return Recorded(models, **options)

    def requests(self, model: str) -> list[dict[str, Any]]:
        path = self.logs / f"{model}.jsonl"
        lines = path.read_text().splitlines() if path.exists() else []
        return [json.loads(line) for line in lines if line.strip()]


def _bench(db: Path, *args: str) -> Any:
    from codegen.cli import cli

    return CliRunner().invoke(cli, ["bench", *args, "--db", str(db)], catch_exceptions=False)


@pytest.mark.docker
@pytest.mark.slow
def test_bench_run_serves_embedded_models_and_resumes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("OPENAI_API_KEY", "OPENAI_API_BASE", "OPENAI_BASE_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("LITELLM_LOCAL_MODEL_COST_MAP", "True")
    monkeypatch.setenv("CODEGEN_CACHE", str(tmp_path / "cache"))
    runtimes = _Runtimes(tmp_path)
    monkeypatch.setattr(embedded, "LocalRuntime", runtimes)
    db = tmp_path / "bench.sqlite"
    args = ["run", "--suite", str(_suite(tmp_path)), "--models", f"{SMALL},{LARGE}",
            "--rounds", "1", "--workers", "1", "--run-name", "embedded"]  # fmt: skip

    first = _bench(db, *args)
    assert first.exit_code == 0, first.output
    assert "run embedded: 2/2 problems done (2 evaluated, 4 samples and 4 tester" in first.output
    assert f"serving {SMALL}, {LARGE} here, one server each" in first.output
    (served,) = runtimes.started
    assert served["models"] == [SMALL, LARGE] and served["slots"] == 1
    assert len(served["pids"]) == 2  # one server per model
    assert not any(alive(pid) for pid in served["pids"])  # stopped when the run ended
    for model in (SMALL, LARGE):
        asked = runtimes.requests(model)
        assert len(asked) == 4, asked  # 2 problems × (1 sample + 1 tester request)
        assert {r["body"]["model"] for r in asked} == {model}  # each on its own server
        arrivals = sorted(r["at"] for r in asked)  # one request at a time per server
        assert all(b - a >= DELAY_S * 0.9 for a, b in zip(arrivals, arrivals[1:], strict=False))

    with sqlite3.connect(db) as raw:
        (config,) = raw.execute("SELECT config FROM runs").fetchone()
        samples = raw.execute("SELECT DISTINCT model FROM samples ORDER BY model").fetchall()
        testers = raw.execute("SELECT model, error FROM tester_replies ORDER BY model").fetchall()
        picks = raw.execute("SELECT status, pick_passed FROM problems").fetchall()
    assert json.loads(config)["models"] == [SMALL, LARGE]  # the run key: the names as typed
    assert samples == [(SMALL,), (LARGE,)]
    assert testers == [(SMALL, ""), (SMALL, ""), (LARGE, ""), (LARGE, "")]
    assert picks == [("done", 1), ("done", 1)]  # the small model's tests pick the right one

    report = _bench(db, "report", "embedded")
    assert report.exit_code == 0, report.output
    rows = {line.split("|")[1].strip(): line for line in report.output.splitlines()
            if line.startswith("| ")}  # fmt: skip
    assert "| 100.0% |" in rows[SMALL] and "| 0.0% |" in rows[LARGE]

    before = {m: len(runtimes.requests(m)) for m in (SMALL, LARGE)}
    again = _bench(db, *args)
    assert again.exit_code == 0, again.output
    assert "2/2 problems done (0 evaluated, 0 samples and 0 tester replies" in again.output
    assert {m: len(runtimes.requests(m)) for m in (SMALL, LARGE)} == before  # nothing asked
    assert len(runtimes.started) == 2
    assert not any(alive(pid) for pid in runtimes.started[1]["pids"])
    with sqlite3.connect(db) as raw:
        assert raw.execute("SELECT count(*) FROM runs").fetchone() == (1,)  # resumed, not new


def test_serve_embedded_routes_each_model_to_its_own_server(tmp_path: Path) -> None:
    runtimes = _Runtimes(tmp_path)
    spec = BenchSpec(
        suite=load_suite(str(_suite(tmp_path))),
        models=("openai/hosted", SMALL),
        judges=(LARGE,),
        api_base="http://127.0.0.1:9/v1",
    )
    with serve_embedded(
        spec, LocalExecutor(workers=1), command=runtimes.command, log_dir=tmp_path
    ) as served:
        assert set(served.routes) == {SMALL, LARGE}  # the judge is served too
        small = served.worker(SMALL)
        assert small.model == f"openai/{SMALL}" and small.api_base == served.routes[SMALL].api_base
        assert small.timeout_s == EMBEDDED_TIMEOUT_S
        assert served.routes[SMALL].api_base != served.routes[LARGE].api_base
        hosted = served.worker("openai/hosted")
        assert (hosted.api_base, hosted.timeout_s) == ("http://127.0.0.1:9/v1", 120.0)
        (judge,) = jury_of(served)
        assert judge.model == f"openai/{LARGE}" and judge.max_parallel == 1
        assert served.config("image") == spec.config("image")  # the run key is unchanged
        check_models(served)
    check_models(spec)  # before the servers: the embedded ones are left to their start


def test_embedded_models_are_not_asked_from_ray_nodes(tmp_path: Path) -> None:
    spec = BenchSpec(suite=load_suite(str(_suite(tmp_path))), models=(SMALL,))
    on_nodes = SimpleNamespace(generator=object(), tester=object())
    with pytest.raises(BadInput, match="--ray-generation"), serve_embedded(spec, on_nodes):  # type: ignore[arg-type]
        pass


def test_an_embedded_model_that_is_not_pulled_is_one_line(tmp_path: Path) -> None:
    db = tmp_path / "bench.sqlite"
    env = {**bench_env(db), "CODEGEN_CACHE": str(tmp_path / "empty-cache")}
    models = f"openai/hosted,{SMALL}"
    result = codegen("bench", "run", "--suite", str(_suite(tmp_path)), "--models", models,
                     "--api-base", "http://127.0.0.1:9/v1", env=env)  # fmt: skip
    assert result.returncode == 3, result.stderr
    line = one_line(result.stderr)
    if engine._installed_here():  # the run's empty cache has no engine; this venv may have one
        expected = f"local model {SMALL} is not pulled: run `codegen models pull --model {SMALL}`"
        assert line == f"codegen: {expected}"
    else:
        assert line.startswith("codegen: the local engine xllamacpp is not installed")
        assert line.endswith("run `codegen models pull` once, from any codegen install")
    assert not db.exists()  # the store opens once the servers are up
