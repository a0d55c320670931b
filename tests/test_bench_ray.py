"""`codegen bench run --executor ray` on a real two-node Ray cluster on this machine
(tests/ray_support.py): the same results as `local`, with the work spread over both nodes (and
the model calls, the tester's too, as Ray tasks with `--ray-generation`)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from codegen.bench.suites import HumanEvalSuite
from tests.bench_support import codegen_bench, humaneval_server, pass_table

pytestmark = [pytest.mark.docker, pytest.mark.slow]

PROBLEMS = 3
MODELS = "openai/canonical,openai/wrong,openai/slow"


def test_ray_runs_equal_local_and_use_both_nodes(tmp_path: Path, ray_cluster: str) -> None:
    db = tmp_path / "bench.sqlite"
    problems = HumanEvalSuite().problems()[:PROBLEMS]
    with humaneval_server(problems) as server:
        common = ["run", "--models", MODELS, "--limit", str(PROBLEMS), "--rounds", "3",
                  "--api-base", server.base_url]  # fmt: skip
        local = codegen_bench(db, *common, "--run-name", "local")
        assert local.returncode == 0, local.stderr
        remote = codegen_bench(db, *common, "--run-name", "ray", "--executor", "ray",
                               "--ray-address", ray_cluster)  # fmt: skip
        assert remote.returncode == 0, remote.stderr
        generated = codegen_bench(db, *common, "--run-name", "ray-gen", "--executor", "ray",
                                  "--ray-address", ray_cluster, "--ray-generation")  # fmt: skip
        assert generated.returncode == 0, generated.stderr
        assert "generation ran as Ray tasks on" in generated.stdout, generated.stdout

    assert pass_table(db, "ray") == pass_table(db, "local") == pass_table(db, "ray-gen")
    assert len(pass_table(db, "local")) == PROBLEMS * 3
    with sqlite3.connect(db) as raw:
        where = raw.execute(
            "SELECT executed_on FROM problems p JOIN runs r ON r.id = p.run_id "
            "WHERE r.name = 'ray' AND p.status = 'done'"
        ).fetchall()
        keys = {row[0] for row in raw.execute("SELECT config_hash FROM runs")}
        answered = dict(raw.execute(
            "SELECT r.name, count(*) FROM tester_replies t JOIN runs r ON r.id = t.run_id "
            "WHERE t.error = '' GROUP BY r.name"
        ).fetchall())  # fmt: skip
    assert len(where) == PROBLEMS
    assert all(w.startswith("ray:") for (w,) in where)
    assert len({w for (w,) in where}) == 2  # both nodes did work
    assert len(keys) == 1  # neither the executor nor where generation runs is in the run's key
    # every model's tester answered, on the driver or as a Ray task (--ray-generation)
    assert answered == {"local": PROBLEMS * 3, "ray": PROBLEMS * 3, "ray-gen": PROBLEMS * 3}
    compared = codegen_bench(db, "compare", "local", "ray")
    assert "0 difference(s)" in compared.stdout, compared.stdout
