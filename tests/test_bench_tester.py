"""`codegen bench run` with the tester, end to end: a subprocess on a one-problem folder suite
whose visible test is weak (a wrong program passes it too), the real sandbox, and a real
OpenAI-speaking server on loopback. Three models write the wrong program, two the right one;
one model's tester writes tests that tell them apart. With the tester the ensemble picks the
right minority, without it (`--no-tester`) the wrong majority; the tester's replies are stored
and never asked for twice, and the report shows how well the pick's confidence predicted."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from codegen.ranking.confidence import CEILING
from codegen.testing import FakeOpenAIServer
from codegen.testing.fake_openai import Script
from tests.bench_support import codegen_bench
from tests.cli_support import fenced

pytestmark = [pytest.mark.docker, pytest.mark.slow]

STUB = '''def square(n: int) -> int:
    """The square of n.

    square(3) == 9
    """
    ...
'''
HIDDEN = (
    "from solution import square\n\n\n"
    "def test_negatives():\n    assert square(-2) == 4\n    assert square(-5) == 25\n"
)
WRONG = "def square(n):\n    return n * abs(n)\n"  # passes the visible example, wrong below 0
RIGHT = "def square(n):\n    return n * n\n"
TESTS = "```python\nassert square(-2) == 4\nassert square(-3) == 9\nassert square(0) == 0\n```"
MODELS = ("w1", "w2", "w3", "r1", "r2")
REFUSED = {"status": 400}  # a final error (not retried): an infrastructure error, retried later


def _suite(tmp_path: Path) -> Path:
    folder = tmp_path / "suite" / "square"
    (folder / "hidden").mkdir(parents=True)
    (folder / "problem.py").write_text(STUB)
    (folder / "hidden" / "test_square.py").write_text(HIDDEN)
    return folder.parent


def _server() -> FakeOpenAIServer:
    models = {m: [fenced(WRONG if m.startswith("w") else RIGHT)] for m in MODELS}
    models["w3"] = [REFUSED, fenced(WRONG)]  # the first run ends with an infrastructure error
    testers = {
        "r1": [{"content": TESTS}],
        "r2": [REFUSED, {"content": "I cannot test this."}],  # refused once, then no test
    }
    return FakeOpenAIServer(Script(models=models, testers=testers))


def _query(db: Path, sql: str, *args: object) -> list[tuple]:
    with sqlite3.connect(db) as raw:
        return raw.execute(sql, args).fetchall()


def _pick(db: Path, run: str) -> tuple[str, bool, float, str]:
    ((status, passed, confidence, evidence),) = _query(
        db,
        "SELECT p.status, p.pick_passed, p.confidence, p.evidence FROM problems p "
        "JOIN runs r ON r.id = p.run_id WHERE r.name = ?",
        run,
    )
    return status, bool(passed), confidence, evidence


def test_the_testers_tests_change_the_pick_are_stored_and_reported(tmp_path: Path) -> None:
    db = tmp_path / "bench.sqlite"
    suite = _suite(tmp_path)
    with _server() as server:
        common = ["run", "--suite", str(suite), "--models", ",".join(f"openai/{m}" for m in MODELS),
                  "--rounds", "1", "--workers", "1", "--api-base", server.base_url]  # fmt: skip
        first = codegen_bench(db, *common, "--run-name", "tester")
        assert first.returncode == 3, first.stderr  # w3 got no answer: retried on the next run
        testers = [r["body"] for r in server.requests if r["tester"]]
        assert sorted(r["model"] for r in testers) == sorted(MODELS)  # one tester per model
        assert "assert square(" in testers[0]["messages"][-1]["content"]
        stored = _query(db, "SELECT model, error != '' FROM tester_replies ORDER BY model")
        assert stored == [(f"openai/{m}", m == "r2") for m in sorted(MODELS)]

        before = len(server.requests)
        resumed = codegen_bench(db, *common, "--run-name", "tester")
        assert resumed.returncode == 0, resumed.stderr
        assert "(1 evaluated, 1 samples and 1 tester replies generated now)" in resumed.stdout
        again = sorted((r["body"]["model"], r["tester"]) for r in server.requests[before:])
        assert again == [("r2", True), ("w3", False)]  # only what got no answer

        before = len(server.requests)
        plain = codegen_bench(db, *common, "--run-name", "plain", "--no-tester")
        assert plain.returncode == 0, plain.stderr
        assert "(1 evaluated, 5 samples and 0 tester replies generated now)" in plain.stdout
        assert not any(r["tester"] for r in server.requests[before:])

    # 2 votes × (1 + 3 tests passed) outweigh 3 votes × (1 + 1); alone, 3 votes beat 2.
    # The confidence reads which models stand behind the pick (codegen.ranking.confidence).
    status, passed, confidence, evidence = _pick(db, "tester")
    tester_confidence = confidence
    assert (status, passed) == ("done", True)
    assert evidence.endswith("they pass 3 of 3 model-written tests; 2 models agree")
    assert CEILING["one model"] < confidence <= CEILING["models agree"]
    # Three models writing one wrong program are beyond what agreement can see: only a test
    # that tells them apart can, and without the tester there is none.
    status, passed, confidence, evidence = _pick(db, "plain")
    plain_confidence = confidence
    assert (status, passed) == ("done", False)
    assert evidence.endswith("; 3 models agree")
    assert CEILING["one model"] < confidence <= CEILING["models agree"]
    assert len({key for (key,) in _query(db, "SELECT config_hash FROM runs")}) == 2
    config = json.loads(_query(db, "SELECT config FROM runs WHERE name = 'plain'")[0][0])
    assert config["tester"] is False
    (message,) = _query(db, "SELECT message FROM problems p JOIN runs r ON r.id = p.run_id "
                            "WHERE r.name = 'tester'")[0]  # fmt: skip
    assert "tester" not in message  # r2's error was retried before the evaluation
    assert _query(db, "SELECT count(*) FROM tester_replies")[0][0] == len(MODELS)

    report = codegen_bench(db, "report", "tester", "-o", str(tmp_path / "report"))
    assert report.returncode == 0, report.stderr
    assert "| confidence | picks | mean confidence | pick passes |" in report.stdout
    assert f"| 0.8–1.0 | 1 | {tester_confidence:.2f} | 100.0% |" in report.stdout
    assert f"Brier score {(1 - tester_confidence) ** 2:.3f}" in report.stdout
    summary = json.loads((tmp_path / "report" / "summary.json").read_text())
    assert summary["reliability"]["picks"] == 1
    assert 'id="reliability"' in (tmp_path / "report" / "index.html").read_text()
    plain_report = codegen_bench(db, "report", "plain")
    assert f"| 0.8–1.0 | 1 | {plain_confidence:.2f} | 0.0% |" in plain_report.stdout
    compared = codegen_bench(db, "compare", "plain", "tester")
    assert "| square | ensemble | fail | pass |" in compared.stdout, compared.stdout
