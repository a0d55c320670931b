# Every target does its own set-up, idempotently: venv, Docker engine, sandbox image.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml | sha256sum | cut -c1-12)
export LITELLM_LOCAL_MODEL_COST_MAP := True

.PHONY: demo test test-fast bench lint docs docker image venv clean-containers chromium models

demo: image  ## codegen solve on a bundled example with the embedded model (pulled once)
	$(BIN)/codegen models pull
	$(BIN)/codegen solve examples/sum_squares/problem.py

test: image chromium models
	$(BIN)/python -m pytest -q

models: venv  ## the embedded 0.5B model the model test uses (built and verified once, cached)
	$(BIN)/codegen models pull --model qwen2.5-coder-0.5b

test-fast: venv  ## no Docker, no model: the pure core only
	$(BIN)/python -m pytest -q -m "not docker and not model"

bench: image
	$(BIN)/python -m pytest benchmarks -q --benchmark-columns=min,median,max,rounds

docs: venv  ## the documentation site into site/ (strict: a broken link fails; tests/test_docs.py runs it in `make test`)
	$(BIN)/mkdocs build --strict

lint: venv
	$(BIN)/ruff check codegen sandbox tests benchmarks
	$(BIN)/ruff format --check codegen sandbox tests benchmarks

venv: $(STAMP)
$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev,ray]'
	touch $@

docker:
	scripts/ensure-docker.sh

image: venv docker
	$(BIN)/codegen sandbox build
	$(BIN)/codegen sandbox prune

chromium:  ## headless browser for the report test (Debian's package), installed once
	command -v chromium >/dev/null || DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium \
	  || (apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium)

clean-containers: venv
	$(BIN)/codegen sandbox prune --all
