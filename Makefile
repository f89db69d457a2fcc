# Two commands for a new user: `make setup`, then `make test`.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
BEHAVE := $(BIN)/behave
ARGS   ?=

.PHONY: setup test lint unit test-atlas-server-smoke test-atlas-server-full steps-doc \
        bench serve clean

setup: $(VENV)/.installed  ## create the virtual environment, install everything, fetch the model
	$(BIN)/atlas-reference-server --fetch-model

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

test: lint unit test-atlas-server-full  ## everything CI runs

lint:
	$(BIN)/ruff check .

unit:
	$(BIN)/pytest tests

test-atlas-server-smoke:  ## a fast health check of a server, under a minute
	$(BEHAVE) --tags=@smoke $(ARGS)

test-atlas-server-full:  ## every functional scenario (not @soak, not @k8s)
	$(BEHAVE) $(ARGS)

steps-doc:  ## regenerate docs/steps.md from the step docstrings
	$(BIN)/python scripts/gen_steps_doc.py

bench:  ## the reference server's benchmarks: they print figures, they do not pass or fail
	$(BIN)/python benchmarks/bench_overhead.py
	$(BIN)/python benchmarks/bench_memory_scaling.py
	$(BIN)/python benchmarks/bench_save_load.py

serve:  ## run the reference server on port 8080 with ATLAS on
	$(BIN)/atlas-reference-server -m $$($(BIN)/atlas-reference-server --fetch-model) --atlas --port 8080

clean:
	rm -rf reports .pytest_cache .ruff_cache
