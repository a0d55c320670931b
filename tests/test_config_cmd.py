"""`codegen config show`: flags override the file, which overrides the defaults."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.cli_support import ROOT, TWO_SUM_HASH, FakeServerProcess, codegen, fenced, one_line

PYPROJECT = """
[project]
name = "demo"

[tool.codegen]
samples = 3
personas = ["fastest"]

[[tool.codegen.workers]]
model = "openai/gpt-4o-mini"
persona = "fastest"

[tool.codegen.limits]
wall_seconds = 12

[tool.codegen.jury]
judges = ["anthropic/claude-3-5-haiku-20241022"]
"""


def _show(tmp_path: Path, *flags: str, cache: Path | None = None) -> dict:
    """With an empty user cache unless told: what is pulled changes the default roster."""
    cache = cache or tmp_path / "empty-cache"
    done = codegen("config", "show", "--json", *flags, cwd=tmp_path,
                   env={"CODEGEN_CACHE": str(cache)})  # fmt: skip
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_defaults_without_a_config_file(tmp_path: Path) -> None:
    data = _show(tmp_path)
    assert data["roster_kind"] == "embedded"
    assert data["local_models"] == ["qwen2.5-coder-1.5b", "qwen2.5-coder-0.5b"]
    assert data["samples"] is None and data["limits"]["wall_seconds"] == 30.0
    assert data["jury"]["enabled"] is False  # off for the embedded model
    assert set(data["origins"].values()) == {"default"}


def test_the_file_overrides_the_defaults(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(PYPROJECT)
    data = _show(tmp_path)
    source = str(tmp_path / "pyproject.toml")
    assert data["roster_kind"] == "config"
    assert data["roster"] == ["openai/gpt-4o-mini[fastest] ×3"]  # the file's samples = 3
    assert data["limits"]["wall_seconds"] == 12 and data["limits"]["test_seconds"] == 10
    assert data["jury"] == {
        "enabled": True,
        "judges": ["anthropic/claude-3-5-haiku-20241022"],
        "timeout_s": 120.0,
    }
    assert data["origins"]["samples"] == data["origins"]["limits"] == source
    assert data["origins"]["repair"] == "default"


def test_flags_override_the_file(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(PYPROJECT)
    data = _show(tmp_path, "--samples", "5", "--no-jury", "--models", "openai/a,qwen2.5-coder-0.5b")
    assert data["samples"] == 5 and data["origins"]["samples"] == "flag"
    assert data["jury"]["enabled"] is False and data["origins"]["jury"] == "flag"
    assert data["roster_kind"] == "flags" and data["models"] == ["openai/a", "qwen2.5-coder-0.5b"]
    assert data["roster"] == [
        "openai/a[fastest] ×5",
        "qwen2.5-coder-0.5b (embedded) [fastest] ×5",
    ]


def test_explicit_config_file_and_text_output(tmp_path: Path) -> None:
    config = tmp_path / "team.toml"
    config.write_text("samples = 2\n\n[repair]\nmax_candidates = 6\n")
    done = codegen("config", "show", "--config", str(config), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert f"# config file: {config}" in done.stdout
    assert "samples = 2" in done.stdout and "max_candidates = 6" in done.stdout
    assert "\n[limits]\nwall_seconds = 30.0\n" in done.stdout


def test_a_wrong_key_is_one_line_naming_file_and_field(tmp_path: Path) -> None:
    (tmp_path / "codegen.toml").write_text("[repair]\nmax_candidate = 6\n")
    done = codegen("config", "show", cwd=tmp_path)
    assert done.returncode == 2
    line = one_line(done.stderr)
    assert "codegen.toml" in line and "unknown key 'max_candidate' in [repair]" in line
    assert "did you mean 'max_candidates'?" in line


def test_a_missing_config_file(tmp_path: Path) -> None:
    done = codegen("config", "show", "--config", str(tmp_path / "nope.toml"))
    assert done.returncode == 2
    assert "config file not found" in one_line(done.stderr)


def test_the_request_count_and_how_many_go_at_once_are_shown_before_the_run(
    tmp_path: Path,
) -> None:
    """Personas multiply every model's requests (and cost): say so before anything starts.
    The default caps let a roster of 5 models × 4 personas start at once on one server."""
    data = _show(tmp_path, "--models", "openai/a,openai/b,openai/c,openai/d,openai/e")
    assert data["requests"]["per_run"] == 20 and data["requests"]["tester"] == 5
    assert data["requests"]["at_once"] == 25  # the tester's requests go beside the candidates'
    summary = data["requests"]["summary"]
    assert "5 model(s) × 4 persona(s) × 1 sample(s), and 5 for tests; all at once" in summary
    data = _show(tmp_path, "--models", "openai/a", "--samples", "50", "--no-tester")
    assert data["requests"]["per_run"] == 200 and data["requests"]["at_once"] == 32
    assert data["requests"]["tester"] == 0


def test_the_embedded_plan_counts_a_server_per_core_and_the_tester(tmp_path: Path) -> None:
    """The embedded default starts one server per usable core, each answering one request at
    a time: that many go at once (it said 1 while the run started 2), plus the tester's one."""
    from codegen.local_models.runtime import usable_cores

    data = _show(tmp_path)
    requests = data["requests"]
    assert requests["per_run"] == 4 and requests["tester"] == 1
    assert requests["at_once"] == min(usable_cores(), 5)
    (tmp_path / "codegen.toml").write_text("[tester]\nenabled = false\n")
    assert _show(tmp_path)["requests"]["tester"] == 0


def test_an_unknown_key_stops_every_command_that_reads_the_config(tmp_path: Path) -> None:
    """Exit 2, one line, before anything starts: from pyproject.toml, from a file named by
    CODEGEN_CONFIG or by --config, for `config show` and for `solve`."""
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "x"\n[tool.codegen]\nsampels = 2\n')
    expected = "unknown key 'sampels' in [tool.codegen] (line 4); did you mean 'samples'?"
    for args in (("config", "show"), ("solve", str(ROOT / "examples" / "two_sum"))):
        done = codegen(*args, cwd=tmp_path)
        assert done.returncode == 2, done.stderr
        assert one_line(done.stderr) == f"codegen: {tmp_path / 'pyproject.toml'}: {expected}"
    team = tmp_path / "team.toml"
    team.write_text("[sandbox]\nworkerz = 4\n")
    for done in (
        codegen("config", "show", env={"CODEGEN_CONFIG": str(team)}, cwd=tmp_path),
        codegen("config", "show", "--config", str(team), cwd=tmp_path),
    ):
        assert done.returncode == 2, done.stderr
        assert "unknown key 'workerz' in [sandbox] (line 2); did you mean 'workers'?" in one_line(
            done.stderr
        )


def test_the_jury_shown_is_the_jury_the_run_seats(tmp_path: Path) -> None:
    """Unset, the jury is off whenever an embedded model is in the roster, named with --models
    too (config show said on for `--models qwen2.5-coder-0.5b`)."""
    assert _show(tmp_path, "--models", "openai/a")["jury"]["enabled"] is True
    assert _show(tmp_path, "--models", "qwen2.5-coder-0.5b")["jury"]["enabled"] is False
    assert _show(tmp_path, "--models", "openai/a,qwen2.5-coder-0.5b")["jury"]["enabled"] is False
    assert _show(tmp_path, "--models", "qwen2.5-coder-0.5b", "--jury")["jury"]["enabled"] is True


@pytest.mark.docker
def test_config_show_counts_the_requests_the_run_sends(tmp_path: Path) -> None:
    """The plan `config show` prints is the one the run then carries out: the same number of
    candidate requests and of tester requests reach the model server."""
    flags = ("--models", "openai/coder", "--samples", "2", "--no-jury")
    plan = _show(tmp_path, *flags)["requests"]
    script = {"models": {"coder": [fenced(TWO_SUM_HASH)]}}
    with FakeServerProcess(script, tmp_path) as server:
        done = codegen("solve", str(ROOT / "examples" / "two_sum"), *flags, "--json",
                       env={"OPENAI_API_BASE": server.base_url}, cwd=tmp_path)  # fmt: skip
        asked, tests = len(server.requests()), len(server.requests(tester=True))
    assert done.returncode == 0, done.stderr
    totals = json.loads(done.stdout)["totals"]
    assert (plan["per_run"], plan["tester"]) == (asked, tests) == (8, 1)
    assert (totals["requests"], totals["tester_requests"]) == (asked, tests)


def test_the_default_roster_is_the_default_models_that_are_pulled(tmp_path: Path) -> None:
    from codegen.local_models import MODELS

    cache = tmp_path / "cache"
    model = MODELS["qwen2.5-coder-0.5b"]  # pulled: a sparse stand-in of its size, stamped
    (cache / "models").mkdir(parents=True)
    target = cache / "models" / model.filename
    with target.open("wb") as handle:
        handle.truncate(model.size)
    stat = target.stat()
    stamp = {"size": stat.st_size, "mtime_ns": stat.st_mtime_ns, "sha256": model.sha256}
    target.with_name(target.name + ".stamp.json").write_text(json.dumps(stamp))
    assert _show(tmp_path, cache=cache)["local_models"] == ["qwen2.5-coder-0.5b"]


def test_a_run_without_a_default_model_says_how_to_add_it(tmp_path: Path, monkeypatch) -> None:
    from codegen.settings import CodegenConfig, Overrides, resolve
    from codegen.solve.session import _unpulled_defaults

    monkeypatch.setenv("CODEGEN_CACHE", str(tmp_path))
    settings = resolve(CodegenConfig())
    assert _unpulled_defaults(settings) == []  # nothing pulled: the run names the pull itself
    only_small = settings.model_copy(update={"local_models": ["qwen2.5-coder-0.5b"]})
    (note,) = _unpulled_defaults(only_small)
    assert "qwen2.5-coder-1.5b" in note and "`codegen models pull`" in note
    configured = resolve(CodegenConfig(), Overrides(models=["qwen2.5-coder-0.5b"]))
    assert _unpulled_defaults(configured) == []  # the user chose: no advice
