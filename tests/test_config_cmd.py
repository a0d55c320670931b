"""`codegen config show`: flags override the file, which overrides the defaults."""

from __future__ import annotations

import json
from pathlib import Path

from tests.cli_support import codegen, one_line

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
    assert "codegen.toml" in line and "repair.max_candidate: unknown field" in line


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
    assert data["requests"]["per_run"] == 20 and data["requests"]["at_once"] == 20
    assert "5 model(s) × 4 persona(s) × 1 sample(s), all at once" in data["requests"]["summary"]
    data = _show(tmp_path, "--models", "openai/a", "--samples", "50")
    assert data["requests"]["per_run"] == 200 and data["requests"]["at_once"] == 32


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
