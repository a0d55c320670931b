"""`codegen solve` end to end: the real CLI as a subprocess, the fake OpenAI server as a process
on loopback, and the real Docker sandbox."""

from __future__ import annotations

import json
import os
import pty
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from tests.cli_support import (
    CLEAN_ENV,
    CODEGEN,
    ROOT,
    TWO_SUM_HASH,
    FakeServerProcess,
    codegen,
    fenced,
)

pytestmark = pytest.mark.docker

TWO_SUM = ROOT / "examples" / "two_sum"
QUADRATIC = """def two_sum(nums, target):
    for j in range(len(nums)):
        for i in range(j):
            if nums[i] + nums[j] == target:
                return [i, j]
    return []
"""
WRONG = "def two_sum(nums, target):\n    return [0, 1]\n"
SQUARES_STUB = '''def sum_squares(nums: list[int]) -> int:
    """Return the sum of the squares of the numbers in ``nums``.

    >>> sum_squares([1, 2, 3])
    14
    >>> sum_squares([])
    0
    """
    ...
'''
SQUARES_WRONG = "def sum_squares(nums):\n    return sum(nums)\n"
SQUARES_RIGHT = "def sum_squares(nums):\n    return sum(n * n for n in nums)\n"


def _config(tmp_path: Path, body: str, jury: str = "enabled = false") -> Path:
    path = tmp_path / "codegen.toml"
    path.write_text(body + f"\n[sandbox]\ntiming_rounds = 3\n\n[jury]\n{jury}\n")
    return path


def _workers(url: str, *names: str) -> str:
    return "".join(
        f'[[workers]]\nmodel = "openai/{name}"\napi_base = "{url}"\n\n' for name in names
    )


def test_solve_ranks_every_candidate_and_writes_the_winner(tmp_path: Path) -> None:
    ballot = {"candidates": [{"label": "A", "score": 7}, {"label": "B", "score": 7}]}
    replies = {"fast": fenced(TWO_SUM_HASH), "slow": fenced(QUADRATIC), "wrong": fenced(WRONG),
               "judge": {"content": json.dumps(ballot)}}  # fmt: skip
    script = {"models": {name: [reply] for name, reply in replies.items()}}
    out = tmp_path / "winner.py"
    with FakeServerProcess(script, tmp_path) as server:
        workers = _workers(server.base_url, "fast", "slow", "wrong")
        config = _config(tmp_path, workers, jury='judges = ["openai/judge"]')
        done = codegen(
            "solve", str(TWO_SUM), "--config", str(config), "--json", "-o", str(out),
            env={"OPENAI_API_BASE": server.base_url},  # where the judge is
        )  # fmt: skip
        requests = server.requests()
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)  # stdout is the JSON report and nothing else
    assert report["solved"] and not report["repair_round"]
    by_model = {c["model"]: c for c in report["candidates"]}
    assert set(by_model) == {"openai/fast", "openai/slow", "openai/wrong"}
    assert (
        by_model["openai/fast"]["rank"] == 1 and report["winner"] == by_model["openai/fast"]["id"]
    )
    assert by_model["openai/slow"]["rank"] == 2
    assert by_model["openai/wrong"]["rank"] is None
    assert by_model["openai/wrong"]["verdict"] == "failed"
    for candidate in report["candidates"]:
        assert candidate["persona"] == "simplest"
        assert candidate["prompt_tokens"] > 0 and candidate["completion_tokens"] > 0
        assert candidate["latency_s"] > 0 and candidate["cost_usd"] == 0.0
        assert candidate["tests_total"] == 5 and candidate["cpu_seconds"] > 0
    assert by_model["openai/slow"]["timing"]["ratio"] > 1
    assert report["totals"]["requests"] == 3 and report["totals"]["passing"] == 2
    # two passing candidates: the jury sat, one request per aspect
    assert report["judges"] == ["openai/judge"]
    assert len(report["ranking"]["jury"]["ballots"]) == 3
    assert [r["model"] for r in requests].count("judge") == 3
    assert out.read_text() == report["code"] and "seen" in report["code"]
    # each model saw the stub and the visible test file, and nothing hidden
    prompt = next(r for r in requests if r["model"] == "fast")["messages"][-1]["content"]
    assert "def two_sum(nums: list[int], target: int)" in prompt
    assert "def test_earliest_pair_wins" in prompt


def test_repair_round_sends_the_failure_back_and_can_win(tmp_path: Path) -> None:
    stub = tmp_path / "squares.py"
    stub.write_text(SQUARES_STUB)
    script = {"models": {"fixer": [fenced(SQUARES_WRONG), fenced(SQUARES_RIGHT)]}}
    with FakeServerProcess(script, tmp_path) as server:
        config = _config(tmp_path, 'personas = ["simplest"]\n\n[repair]\nmax_candidates = 2\n')
        done = codegen(
            "solve", str(stub), "--models", "openai/fixer", "--config", str(config), "--json",
            env={"OPENAI_API_BASE": server.base_url},
        )  # fmt: skip
        requests = server.requests()
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["repair_round"] is True
    first, fixed = report["candidates"][1], report["candidates"][0]
    assert (first["id"], first["verdict"], first["round"]) == ("c1", "failed", "initial")
    assert report["winner"] == fixed["id"] == "r1"
    assert (fixed["round"], fixed["repair_of"], fixed["rank"]) == ("repair", "c1", 1)
    assert len(requests) == 3  # one initial request, then max_candidates repair requests
    repair_prompt = requests[1]["messages"][-1]["content"]
    assert "return sum(nums)" in repair_prompt  # the failing code …
    assert "verdict: failed" in repair_prompt and "test_doctest" in repair_prompt  # … its output


BOARD_STUB = '''def squares(n, word):
    """How many unit squares an n-by-n board has (word is ignored).

    Examples:
    squares(3, 'ab') == 9
    For n = 2, word = "b" the output should be 5
    """
'''


def test_an_example_nobody_satisfies_gets_a_repair_round_then_is_set_aside(
    tmp_path: Path,
) -> None:
    """Prose examples are soft, but not before the models had their repair round: the wrong
    example (2 → 5) first fails every candidate, the repair prompt shows it, and only when the
    repaired code fails it too is it set aside, with a note."""
    stub = tmp_path / "squares.py"
    stub.write_text(BOARD_STUB)
    product = "def squares(n, word):\n    return n * n\n"
    loop = "def squares(n, word):\n    return sum(n for _ in range(n))\n"
    script = {"models": {"a": [fenced(product)], "b": [fenced(loop)]}}
    with FakeServerProcess(script, tmp_path) as server:
        config = _config(tmp_path, 'personas = ["simplest"]\n\n[repair]\nmax_candidates = 1\n')
        done = codegen(
            "solve", str(stub), "--models", "openai/a,openai/b", "--config", str(config),
            "--json", env={"OPENAI_API_BASE": server.base_url},
        )  # fmt: skip
        requests = server.requests()
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["repair_round"] is True and len(requests) == 3
    assert "says 5" in requests[2]["messages"][-1]["content"]  # the failed example, shown
    assert report["solved"] and report["winner"]
    assert any("set aside" in note for note in report["ranking"]["notes"])


def test_no_passing_candidate_exits_1_with_the_closest_failures(tmp_path: Path) -> None:
    stub = tmp_path / "squares.py"
    stub.write_text(SQUARES_STUB)
    hopeless = "def sum_squares(nums):\n    return -1\n"  # passes no example
    nearly = "def sum_squares(nums):\n    return 14 if nums else 1\n"  # passes one
    script = {"models": {"bad": [fenced(hopeless), fenced(nearly)]}}
    with FakeServerProcess(script, tmp_path) as server:
        config = _config(
            tmp_path,
            'personas = ["simplest"]\n\n[repair]\nmax_candidates = 1\n\n'
            + _workers(server.base_url, "bad"),
        )
        done = codegen("solve", str(stub), "--config", str(config), "--json")
        text = codegen("solve", str(stub), "--config", str(config))
    assert done.returncode == 1
    report = json.loads(done.stdout)
    assert not report["solved"] and report["winner"] is None and report["code"] is None
    assert report["repair_round"] is True
    assert report["closest"][0] == "r1"  # passes 1 of 2 examples: closer than c1
    assert {c["verdict"] for c in report["candidates"]} == {"failed"}
    assert all(c["message"] for c in report["candidates"])
    assert "no passing candidate" in done.stderr.strip().splitlines()[-1]
    assert text.returncode == 1 and text.stdout == ""
    assert "No passing candidate" in text.stderr
    # each candidate once, with its first failing assertion (the scripted replies go on: this
    # second run gets `nearly`, then `nearly` again from the repair, the same program)
    line = "  c1 bad[simplest] 1/2: test_doctest[line6]: sum_squares([]) should be 0; got 1\n"
    assert text.stderr.count(line) == 1 and text.stderr.count("sum_squares([])") == 1
    assert text.stderr.strip().splitlines()[-1] == (
        "codegen: no passing candidate for squares among 1"
    )


def test_plain_text_task_on_stdin_prints_only_the_code(tmp_path: Path) -> None:
    script = {"models": {"fast": [fenced(TWO_SUM_HASH)]}}
    task = "Write two_sum(nums, target): indices [i, j] of the earliest pair adding to target."
    with FakeServerProcess(script, tmp_path) as server:
        config = _config(tmp_path, 'personas = ["simplest"]\n')
        done = codegen(
            "solve", "-", "--entry", "two_sum", "--tests", str(TWO_SUM / "test_two_sum.py"),
            "--models", "openai/fast", "--config", str(config),
            env={"OPENAI_API_BASE": server.base_url}, stdin=task,
        )  # fmt: skip
        requests = server.requests()
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == TWO_SUM_HASH.strip()  # not a TTY: no progress, no table
    assert done.stderr == ""
    assert task in requests[0]["messages"][-1]["content"]


def test_written_to_a_file_on_a_pipe_says_where_on_stderr(tmp_path: Path) -> None:
    """A log of `codegen solve … -o out.py` (CI, a script) shows what happened, not nothing."""
    script = {"models": {"fast": [fenced(TWO_SUM_HASH)]}}
    out = tmp_path / "two_sum_out.py"
    with FakeServerProcess(script, tmp_path) as server:
        config = _config(tmp_path, 'personas = ["simplest"]\n')
        done = codegen(
            "solve", str(TWO_SUM), "--models", "openai/fast", "--config", str(config),
            "-o", str(out), env={"OPENAI_API_BASE": server.base_url},
        )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stdout == "" and out.read_text().strip() == TWO_SUM_HASH.strip()
    assert done.stderr.strip().splitlines()[-1].startswith(f"wrote {out}: ")


def test_humaneval_record_reports_the_hidden_check(tmp_path: Path) -> None:
    record = {
        "task_id": "Demo/0",
        "entry_point": "sum_squares",
        "prompt": SQUARES_STUB.replace("    ...\n", ""),
        "test": "def check(candidate):\n    assert candidate([3, 4]) == 25\n",
    }
    path = tmp_path / "record.json"
    path.write_text(json.dumps(record))
    script = {"models": {"fast": [fenced(SQUARES_RIGHT)]}}
    with FakeServerProcess(script, tmp_path) as server:
        config = _config(tmp_path, 'personas = ["simplest"]\n' + _workers(server.base_url, "fast"))
        done = codegen("solve", str(path), "--config", str(config), "--json")
        requests = server.requests()
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["hidden_tests"] == "passed" and report["problem"] == "Demo/0"
    assert "candidate([3, 4])" not in json.dumps(requests)  # the hidden check stays hidden


def test_json_on_stdout_and_the_live_display_on_a_terminal_stderr(tmp_path: Path) -> None:
    script = {"models": {"fast": [fenced(TWO_SUM_HASH)], "wrong": [fenced(WRONG)]}}
    with FakeServerProcess(script, tmp_path) as server:
        config = _config(tmp_path, _workers(server.base_url, "fast", "wrong"))
        stdout, terminal, code = _with_terminal_stderr(
            [*CODEGEN, "solve", str(TWO_SUM), "--config", str(config), "--json"]
        )
    assert code == 0, terminal
    assert json.loads(stdout)["solved"] is True
    for shown in ("models", "sandbox", "fast", "wrong", "passed", "failed"):
        assert shown in terminal, terminal


def _with_terminal_stderr(command: list[str]) -> tuple[str, str, int]:
    """Run with stdout a pipe and stderr a pseudo-terminal; returns both outputs and the code."""
    leader, follower = pty.openpty()
    env = {k: v for k, v in os.environ.items() if k not in CLEAN_ENV}
    env |= {"COLUMNS": "120", "LINES": "50", "TERM": "xterm"}
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE,
                               stderr=follower, stdin=subprocess.DEVNULL)  # fmt: skip
    os.close(follower)
    chunks: list[bytes] = []

    def drain() -> None:
        while True:
            try:
                chunk = os.read(leader, 65536)
            except OSError:  # EIO: the child closed the terminal
                return
            if not chunk:
                return
            chunks.append(chunk)

    reader = threading.Thread(target=drain, daemon=True)
    reader.start()
    stdout, _ = process.communicate(timeout=300)
    reader.join(10)
    os.close(leader)
    return stdout.decode(), b"".join(chunks).decode(errors="replace"), process.returncode


COUNTS_STUB = '''def most_common(words: list[str]) -> str:
    """The word that occurs most often; of equally common words, the one seen first."""
    raise NotImplementedError
'''
COUNTS_TESTS = """from solution import most_common


def test_most_common():
    assert most_common(["b", "a", "b"]) == "b"
    assert most_common(["x", "y"]) == "x"
"""
# What a small model answers: the import it needs, star imports it does not, a copy of the
# tests importing `solution`, example calls and commentary.
COUNTS_REPLY = """Sure! Here is the function:

```python
from collections import Counter
from typing import *
from itertools import *

def most_common(words: List[str]) -> str:
    counts = Counter(words)
    best = max(counts.values())
    return next(w for w in words if counts[w] == best)

# Test the function with provided data points
print(most_common(["b", "a", "b"]))  # Example usage

# Test cases
from solution import most_common

def test_most_common():
    assert most_common(["x"]) == "x"

if __name__ == "__main__":
    test_most_common()
```
"""


def test_the_written_file_imports_and_passes_the_tests_under_its_own_name(
    tmp_path: Path,
) -> None:
    problem = tmp_path / "counts"
    problem.mkdir()
    (problem / "problem.py").write_text(COUNTS_STUB)
    (problem / "test_counts.py").write_text(COUNTS_TESTS)
    out = tmp_path / "written" / "counts_out.py"
    out.parent.mkdir()
    script = {"models": {"small": [{"content": COUNTS_REPLY}]}}
    with FakeServerProcess(script, tmp_path) as server:
        config = _config(tmp_path, 'personas = ["simplest"]\n\n[tester]\nenabled = false\n')
        done = codegen(
            "solve", str(problem), "--models", "openai/small", "--config", str(config),
            "-o", str(out), "--json", env={"OPENAI_API_BASE": server.base_url},
        )  # fmt: skip
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["checked_as"] == "counts_out.py"
    written = out.read_text()
    assert (
        written
        == report["code"]
        == (
            "from collections import Counter\n"
            "from typing import List\n"
            "\n"
            "def most_common(words: List[str]) -> str:\n"
            "    counts = Counter(words)\n"
            "    best = max(counts.values())\n"
            "    return next(w for w in words if counts[w] == best)\n"
        )
    )
    # the user's view: import it under its own name and run the problem's tests against it
    tests = out.parent / "test_counts_out.py"
    tests.write_text(COUNTS_TESTS.replace("from solution import", "from counts_out import"))
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(tests)],
        cwd=out.parent, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert run.returncode == 0, run.stdout + run.stderr
    assert "1 passed" in run.stdout
    flakes = subprocess.run([sys.executable, "-m", "pyflakes", str(out)], capture_output=True,
                            text=True, timeout=60)  # fmt: skip
    assert flakes.returncode == 0 and flakes.stdout == "", flakes.stdout


def test_a_repair_that_forgets_an_import_of_the_failing_version_still_counts(
    tmp_path: Path,
) -> None:
    """The repair round was once refused: `dd` undefined, its import pruned from the reply."""
    stub = tmp_path / "squares.py"
    stub.write_text(SQUARES_STUB)
    first = (
        "from collections import defaultdict as dd\n\n\ndef sum_squares(nums):\n"
        "    seen = dd(int)\n    for n in nums:\n        seen[n] += n\n    return sum(seen)\n"
    )
    fixed = "def sum_squares(nums):\n    seen = dd(int)\n    for n in nums:\n" \
            "        seen[n] += n * n\n    return sum(seen.values())\n"  # fmt: skip
    script = {"models": {"fixer": [fenced(first), fenced(fixed)]}}
    with FakeServerProcess(script, tmp_path) as server:
        config = _config(tmp_path, 'personas = ["simplest"]\n\n[repair]\nmax_candidates = 1\n')
        done = codegen(
            "solve", str(stub), "--models", "openai/fixer", "--config", str(config), "--json",
            env={"OPENAI_API_BASE": server.base_url},
        )  # fmt: skip
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["winner"] == "r1" and not report["generation_failures"]
    assert report["code"].startswith("from collections import defaultdict as dd\n")
