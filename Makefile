# Every target does its own set-up, idempotently: venv, Docker engine, sandbox image, models.
# A first run overlaps what is independent (make -j, see `setup`); each step's time goes to
# .first-run.tsv (`make first-run-report`, docs/first-run.md).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml | sha256sum | cut -c1-12)
MODEL ?= qwen2.5-coder-0.5b
JOBS ?= 6
# `make test`'s pytest workers (pytest-xdist), each with its own sandbox pool; a test file stays
# on one worker (its module fixtures are built once). 2: pytest 24.5 -> 12.1 min on 2 cores.
TEST_WORKERS ?= 2
TIMED := scripts/timed
export LITELLM_LOCAL_MODEL_COST_MAP := True

.PHONY: demo test test-fast bench lint docs docker image venv venv-base clean-containers \
	chromium models model engine setup setup-demo setup-test first-run-report

demo: setup-demo  ## codegen solve on a bundled example with the embedded model (pulled once)
	$(TIMED) demo-solve $(BIN)/codegen solve examples/sum_squares/problem.py

test: setup-test
	$(BIN)/python -m pytest -q -n $(TEST_WORKERS) --dist loadfile --durations=30

# The first run's steps at once where independent: the Docker engine, the venv, then the image,
# the model's download and the engine's install side by side (docs/first-run.md).
setup-demo:
	$(MAKE) -j$(JOBS) --output-sync=line image models
setup-test:
	$(MAKE) -j$(JOBS) --output-sync=line image chromium models
setup: setup-test

first-run-report:
	$(TIMED) --report

models: model engine  ## the embedded model (MODEL, default the 0.5B) and its engine, cached

model: venv
	$(TIMED) model $(BIN)/codegen models pull --model $(MODEL) --no-engine

engine: venv  ## xllamacpp (llama.cpp, a prebuilt wheel) in its own environment, once per user
	$(TIMED) engine $(BIN)/codegen models pull --no-model

# The fast path (139 s of CPU; about 1.8 min estimated on 2 idle cores, not measured idle:
# docs/measurements.md): no Docker, no embedded model, nothing marked slow (mypy from a cold
# cache: `make lint`; the engine's install; the report in Chromium). It still runs the solve,
# rank, optimise and bench flows end to end, on the in-process sandbox (UnsafeLocalSandbox,
# ScriptedSandbox) and the model doubles (ScriptedModel, the fake OpenAI server on loopback):
# tests/test_flows_without_docker.py, tests/test_sandbox_scripted.py, tests/test_llm_scripted.py.
# `make test` (CI) runs everything.
test-fast: venv  ## no Docker, no model, nothing slow: the flows on the doubles and the pure core
	$(BIN)/python -m pytest -q -n auto -m "not docker and not model and not slow"

bench: image
	$(BIN)/python -m pytest benchmarks -q --benchmark-columns=min,median,max,rounds

docs: venv  ## the documentation site into site/ (strict: a broken link fails; tests/test_docs.py runs it in `make test`)
	$(BIN)/mkdocs build --strict

# mypy reads [tool.mypy] in pyproject.toml (strict on ranking, evaluation and the sandbox's
# contract); tests/test_types.py runs it in `make test` too; lint-imports reads
# [tool.importlinter] (the packages' floors), tests/test_layers.py runs it too
lint: venv
	$(BIN)/ruff check codegen sandbox tests benchmarks scripts
	$(BIN)/ruff format --check codegen sandbox tests benchmarks scripts
	$(BIN)/python -m mypy
	$(BIN)/lint-imports

venv-base: $(BIN)/python
$(BIN)/python:
	$(TIMED) venv-base sh -c '$(PYTHON) -m venv $(VENV) && $(BIN)/pip install -q --upgrade pip'

venv: $(STAMP)
$(STAMP): pyproject.toml | $(BIN)/python
	$(TIMED) venv $(BIN)/pip install -q -e '.[dev,ray]'
	touch $@

docker:
	$(TIMED) docker scripts/ensure-docker.sh

image: venv docker
	$(TIMED) image sh -c '$(BIN)/codegen sandbox build && $(BIN)/codegen sandbox prune'

chromium: | docker  ## headless browser for the report test (Debian's package), installed once
	@# after docker: both use apt, which takes one lock
	command -v chromium >/dev/null || $(TIMED) chromium sh -c 'DEBIAN_FRONTEND=noninteractive \
	  apt-get install -y -q chromium || (apt-get update -q && DEBIAN_FRONTEND=noninteractive \
	  apt-get install -y -q chromium)'

clean-containers: venv
	$(BIN)/codegen sandbox prune --all
