"""Model-written tests end to end: `codegen solve` asks each model for test cases beside the
candidates, and with weak visible tests they outweigh a wrong majority (CodeT). The real CLI,
the fake OpenAI server as a process, the real Docker sandbox."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from codegen.ranking.confidence import CEILING, Evidence, confidence
from tests.cli_support import FakeServerProcess, codegen, fenced

pytestmark = pytest.mark.docker

STUB = '''def square(n: int) -> int:
    """The square of n.

    square(3) == 9
    """
    ...
'''
WRONG = "def square(n):\n    return n * abs(n)\n"  # passes the example, wrong on negatives
RIGHT = "def square(n):\n    return n * n\n"
TESTS = "```python\nassert square(-2) == 4\nassert square(-3) == 9\nassert square(0) == 0\n```"
MODELS = ("w1", "w2", "w3", "r1", "r2")


def solve(tmp_path: Path, *flags: str) -> tuple[dict, list[dict]]:
    stub = tmp_path / "square.py"
    stub.write_text(STUB)
    (tmp_path / "codegen.toml").write_text(
        'personas = ["simplest"]\n\n[sandbox]\ntiming_rounds = 3\n\n[jury]\nenabled = false\n'
    )
    script = {
        "models": {m: [fenced(WRONG if m.startswith("w") else RIGHT)] for m in MODELS},
        "testers": {"r1": [{"content": TESTS}], "w1": [{"content": "I cannot test this."}]},
    }
    with FakeServerProcess(script, tmp_path) as server:
        done = codegen(
            "solve", str(stub), "--models", ",".join(f"openai/{m}" for m in MODELS), "--json",
            *flags, cwd=tmp_path, env={"OPENAI_API_BASE": server.base_url},
        )  # fmt: skip
        testers = server.requests(tester=True)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout), testers


def test_model_written_tests_outweigh_a_wrong_majority(tmp_path: Path) -> None:
    report, testers = solve(tmp_path)
    assert sorted(r["model"] for r in testers) == sorted(MODELS)  # one tester per model
    assert "assert square(" in testers[0]["messages"][-1]["content"]
    assert report["code"] == RIGHT  # 2 votes × (1 + 3 tests) against 3 votes × (1 + 1)
    assert len(report["written_tests"]) == 3
    assert report["written_tests"][0]["authors"] == ["openai/r1"]
    assert report["evidence"] == (
        f"2 of 5 candidates agree on {report['ranking']['consensus']['inputs']} inputs; "
        "they pass 3 of 3 model-written tests; 2 models agree"
    )
    counted = Evidence.model_validate(report["ranking"]["counted"])
    assert (counted.agreeing_models, counted.models, counted.written_passed) == (2, 5, 3)
    assert report["confidence"] == confidence(counted) > CEILING["one model"]
    assert report["totals"]["tester_requests"] == 5
    wrong = next(c for c in report["ranking"]["candidates"] if c["id"] != report["winner"])
    assert wrong["demoted"] and wrong["votes"] == 3


def test_without_the_tester_the_majority_wins(tmp_path: Path) -> None:
    report, testers = solve(tmp_path, "--no-tester")
    assert testers == []
    assert report["code"] == WRONG  # agreement alone: 3 votes against 2
    assert report["written_tests"] == [] and report["totals"]["tester_requests"] == 0


def test_a_stub_without_tests_is_solved_by_agreement(tmp_path: Path) -> None:
    stub = tmp_path / "double.py"
    stub.write_text('def double(n: int) -> int:\n    """Twice n."""\n    ...\n')
    (tmp_path / "codegen.toml").write_text(
        'personas = ["simplest"]\n\n[sandbox]\ntiming_rounds = 3\n\n[jury]\nenabled = false\n'
    )
    sources = {
        "a": "def double(n):\n    return n * 3\n",  # written first, and wrong
        "b": "def double(n):\n    return 2 * n\n",
        "c": "def double(n):\n    return 2 * n\n",
        "d": "def double(n):\n    return n + n\n",
    }
    script = {"models": {m: [fenced(code)] for m, code in sources.items()}}
    with FakeServerProcess(script, tmp_path) as server:
        done = codegen(
            "solve", str(stub), "--models", ",".join(f"openai/{m}" for m in sources), "--json",
            cwd=tmp_path, env={"OPENAI_API_BASE": server.base_url},
        )  # fmt: skip
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert "no tests for double" in report["warnings"][0]
    assert report["code"] in (sources["b"], sources["d"])
    assert report["evidence"].startswith("3 of 4 candidates agree on ")
    assert report["evidence"].endswith("; 3 models agree")  # b, c and d: three of the four
    counted = Evidence.model_validate(report["ranking"]["counted"])
    assert report["confidence"] == confidence(counted) > CEILING["one model"]
