"""Config loading: [tool.codegen] or codegen.toml, and one-line errors naming file and field."""

from __future__ import annotations

from pathlib import Path

import pytest

from codegen.config_path import find_config
from codegen.errors import BadInput
from codegen.settings import CodegenConfig, load_config, roster_from_models

PYPROJECT = """
[project]
name = "demo"

[tool.codegen.generation]
per_provider = 2
enough = 3

[[tool.codegen.workers]]
model = "openai/gpt-4o-mini"
persona = "fastest"
samples = 2
temperature = 0.2
max_tokens = 800
timeout_s = 30

[[tool.codegen.workers]]
model = "openai/local-coder"
api_base = "http://127.0.0.1:8000/v1"
persona = "different"

[tool.codegen.jury]
judges = ["anthropic/claude-3-5-haiku-20241022"]
"""


def test_pyproject_section_builds_a_roster(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(PYPROJECT)
    config = load_config(start=tmp_path)
    roster = config.roster()
    assert roster is not None
    first, second = roster.workers
    assert (first.model, first.persona, first.samples, first.temperature) == (
        "openai/gpt-4o-mini",
        "fastest",
        2,
        0.2,
    )
    assert (first.max_tokens, first.timeout_s) == (800, 30.0)
    assert second.api_base == "http://127.0.0.1:8000/v1" and second.samples == 1
    assert roster.limits.per_provider == 2 and roster.limits.enough == 3
    assert roster.request_count == 3
    assert config.source == tmp_path / "pyproject.toml"


def test_sections_of_other_parts_are_kept(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(PYPROJECT)
    config = load_config(start=tmp_path)
    assert config.model_extra == {"jury": {"judges": ["anthropic/claude-3-5-haiku-20241022"]}}


def test_codegen_toml_wins_and_uses_the_top_level(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(PYPROJECT)
    (tmp_path / "codegen.toml").write_text('[[workers]]\nmodel = "ollama/qwen2.5-coder"\n')
    nested = tmp_path / "src" / "pkg"
    nested.mkdir(parents=True)
    assert find_config(nested) == tmp_path / "codegen.toml"
    roster = load_config(start=nested).roster()
    assert roster is not None and [w.model for w in roster.workers] == ["ollama/qwen2.5-coder"]


def test_no_workers_means_the_embedded_default(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "x"\n')
    assert load_config(start=tmp_path).roster() is None
    assert CodegenConfig().roster() is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            '[[tool.codegen.workers]]\nmodel = "openai/x"\ntemperature = 9\n',
            r"pyproject.toml: workers\[0\].temperature: Input should be less than or equal to 2",
        ),
        (
            '[[tool.codegen.workers]]\nmodel = "openai/x"\npersona = "poet"\n',
            r"pyproject.toml: workers\[0\].persona: unknown persona 'poet' \(known: ",
        ),
        (
            '[[tool.codegen.workers]]\nmodel = "openai/x"\nsampels = 3\n',
            r"pyproject.toml: unknown key 'sampels' in \[\[tool.codegen.workers\]\] #1 \(line 3\); "
            r"did you mean 'samples'\?",
        ),
        (
            '[[tool.codegen.workers]]\npersona = "fastest"\n',
            r"pyproject.toml: workers\[0\].model: required field is missing",
        ),
        (
            "[tool.codegen.generation]\nper_provider = 0\n",
            r"pyproject.toml: generation.per_provider: Input should be greater than or equal to 1",
        ),
        ("[tool.codegen\n", r"pyproject.toml: invalid TOML: "),
        ('[tool]\ncodegen = "yes"\n', r"pyproject.toml: \[tool.codegen\] must be a table"),
    ],
)
def test_bad_config_is_one_line_naming_file_and_field(
    tmp_path: Path, text: str, expected: str
) -> None:
    (tmp_path / "pyproject.toml").write_text(text)
    with pytest.raises(BadInput, match=expected) as caught:
        load_config(start=tmp_path)
    message = str(caught.value)
    assert "\n" not in message and str(tmp_path) in message


def test_explicit_missing_file_is_bad_input(tmp_path: Path) -> None:
    with pytest.raises(BadInput, match="config file not found"):
        load_config(tmp_path / "nope.toml")


def test_command_line_models() -> None:
    roster = roster_from_models(
        ["openai/gpt-4o-mini", "ollama/qwen2.5-coder"], personas=["fastest", "simplest"], samples=2
    )
    assert [(w.model, w.persona) for w in roster.workers] == [
        ("openai/gpt-4o-mini", "fastest"),
        ("openai/gpt-4o-mini", "simplest"),
        ("ollama/qwen2.5-coder", "fastest"),
        ("ollama/qwen2.5-coder", "simplest"),
    ]
    assert all(w.samples == 2 and w.api_base is None for w in roster.workers)


def test_command_line_errors() -> None:
    with pytest.raises(BadInput, match="no model given"):
        roster_from_models([])
    with pytest.raises(BadInput, match=r"command line: samples: Input should be greater"):
        roster_from_models(["openai/x"], samples=0)


UNKNOWN_KEYS = [
    # (file name, text, the message after "<path>: ")
    (
        "pyproject.toml",
        '[project]\nname = "x"\n\n[tool.codegen]\nsampels = 2\n',
        "unknown key 'sampels' in [tool.codegen] (line 5); did you mean 'samples'?",
    ),
    (
        "pyproject.toml",
        "[tool.codegen]\nsamples = 2\n\n[tool.codegen.jurry]\nenabled = true\n",
        "unknown table [tool.codegen.jurry] (line 4); did you mean [tool.codegen.jury]?",
    ),
    (
        "pyproject.toml",
        "[tool.codegen.repair]\nmax_candidate = 6\n",
        "unknown key 'max_candidate' in [tool.codegen.repair] (line 2); "
        "did you mean 'max_candidates'?",
    ),
    (
        "pyproject.toml",
        "[tool.codegen.limits]\nwall_second = 5\n",
        "unknown key 'wall_second' in [tool.codegen.limits] (line 2); did you mean 'wall_seconds'?",
    ),
    (
        "pyproject.toml",
        "[tool.codegen.generation]\nper_providr = 5\n",
        "unknown key 'per_providr' in [tool.codegen.generation] (line 2); "
        "did you mean 'per_provider'?",
    ),
    (
        "codegen.toml",
        '[[workers]]\nmodel = "openai/a"\n\n[[workers]]\nmodel = "openai/b"\ntemprature = 0.1\n',
        "unknown key 'temprature' in [[workers]] #2 (line 6); did you mean 'temperature'?",
    ),
    (
        "codegen.toml",
        "samples = 2\n\n[sandbox]\ntiming_round = 3\n",
        "unknown key 'timing_round' in [sandbox] (line 4); did you mean 'timing_rounds'?",
    ),
    (
        "codegen.toml",
        "tester.per_modle = 2\n",
        "unknown key 'per_modle' in [tester] (line 1); did you mean 'per_model'?",
    ),
    (
        "codegen.toml",
        "colour = true\n",
        "unknown key 'colour' at the top level (line 1); known keys: workers, generation, samples",
    ),
]


@pytest.mark.parametrize(("name", "text", "message"), UNKNOWN_KEYS)
def test_an_unknown_key_anywhere_is_refused_naming_it_its_table_and_the_nearest_key(
    tmp_path: Path, name: str, text: str, message: str
) -> None:
    """Silently ignoring `sampels = 2` would run with the default: refuse it, say where."""
    (tmp_path / name).write_text(text)
    with pytest.raises(BadInput) as caught:
        load_config(start=tmp_path)
    line = str(caught.value)
    assert line.startswith(f"{tmp_path / name}: {message}"), line
    assert "\n" not in line


def test_an_unknown_key_in_a_file_named_by_the_environment_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    named = tmp_path / "team.toml"
    named.write_text("[jury]\njudgse = []\n")
    (tmp_path / "pyproject.toml").write_text("[tool.codegen]\nsamples = 2\n")  # not read
    monkeypatch.setenv("CODEGEN_CONFIG", str(named))
    with pytest.raises(BadInput, match=r"team.toml: unknown key 'judgse' in \[jury\]"):
        load_config(start=tmp_path)
    monkeypatch.setenv("CODEGEN_CONFIG", str(tmp_path / "nope.toml"))
    with pytest.raises(BadInput, match=r"CODEGEN_CONFIG=.*nope.toml: config file not found"):
        load_config(start=tmp_path)


def test_every_key_the_settings_read_is_known(tmp_path: Path) -> None:
    """The check and the schema are one: a file using every section loads."""
    (tmp_path / "codegen.toml").write_text(
        'samples = 2\npersonas = ["fastest"]\nlocal_models = ["qwen2.5-coder-0.5b"]\n'
        '[[workers]]\nmodel = "openai/a"\napi_base = "http://127.0.0.1:1/v1"\n'
        'api_key_env = "K"\npersona = "careful"\nsamples = 1\ntemperature = 0.1\n'
        "max_tokens = 64\ntimeout_s = 5\n"
        "[generation]\nmax_concurrency = 2\nper_provider = 1\nmax_retries = 0\nenough = 2\n"
        "[limits]\nwall_seconds = 5\nmemory_mb = 256\n"
        '[sandbox]\nbackend = "docker"\nworkers = 1\ntiming_rounds = 3\n'
        '[jury]\nenabled = false\njudges = ["openai/a"]\ntimeout_s = 9\n'
        "[repair]\nenabled = false\nmax_candidates = 1\nfailing_shown = 1\nfeedback_chars = 300\n"
        "[tester]\nenabled = true\nper_model = 2\ncases = 5\n"
    )
    from codegen.settings import resolve

    settings = resolve(load_config(start=tmp_path))
    assert settings.tester.per_model == 2 and settings.repair.max_candidates == 1
