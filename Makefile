# Two commands for a new user: `make setup`, then `make test`.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
BEHAVE := $(BIN)/behave
ARGS   ?=
# CONTAINERS=0 skips the container engine and images; @docker scenarios then skip with the reason.
CONTAINERS ?= 1
comma := ,
FAULTS ?=
MUTATION_JOBS ?= 2

.PHONY: setup test lint unit test-atlas-server-smoke test-atlas-server-full steps-doc bench-engine \
        bench serve clean probes images test-containers matrix \
        test-atlas-server-performance load-test rate-sweep soak mutation mutation-sample flake-check \
        fuzz fuzz-memfile

setup: $(VENV)/.installed probes  ## virtual environment, dependencies, model, client probes, images
	$(BIN)/atlas-reference-server --fetch-model
ifneq ($(CONTAINERS),0)
	$(MAKE) images
endif

probes: $(VENV)/.installed  ## the Node.js and Go OpenAI client probes (skipped where no runtime)
	scripts/setup-client-probes.sh

images: $(VENV)/.installed  ## a container engine (podman where no Docker answers) and atlas-server-cpu
	eval "$$(scripts/container-engine.sh)" && scripts/build-images.sh

test-containers:  ## the @docker scenarios
	eval "$$(scripts/container-engine.sh)" && $(BEHAVE) --tags=@docker $(ARGS)

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev,reference]'  # the suite, its tests, the reference server
	touch $@

test: lint unit fuzz-memfile mutation-sample test-atlas-server-full  ## everything CI runs

lint:
	$(BIN)/ruff check .

unit:
	$(BIN)/pytest tests

test-atlas-server-smoke:  ## a fast health check of a server, under a minute
	$(BEHAVE) --tags=@smoke $(ARGS)

test-atlas-server-full:  ## every scenario, a CI-sized soak included
	$(BEHAVE) $(ARGS)

mutation:  ## every fault of mutation/faults against its requirement's scenarios (FAULTS=id,id)
	$(BIN)/python scripts/atlas-mutation.py --jobs $(MUTATION_JOBS) $(foreach f,$(subst $(comma), ,$(FAULTS)),--only $(f))

mutation-sample:  ## the faults marked sample = true: a few minutes, so the harness cannot rot
	$(BIN)/python scripts/atlas-mutation.py --sample --no-baseline  # make test runs every scenario unmutated right after

# make test runs the @fuzz scenario inside the default behave run: 15 cases per route and mode,
# the same ones every run (seed 0). make fuzz asks for many more, new ones each run.
FUZZ_EXAMPLES ?= 50
FUZZ_SECONDS ?= 900
FUZZ_SEED ?= random
MEMFILE_FUZZ_SECONDS ?= 45

fuzz:  ## requests generated from schemas/openapi.yaml against the target (ARGS=-D target=...)
	$(BEHAVE) --tags=@fuzz -D fuzz_examples=$(FUZZ_EXAMPLES) -D fuzz_seconds=$(FUZZ_SECONDS) \
	  -D fuzz_seed=$(FUZZ_SEED) $(ARGS)

fuzz-memfile:  ## the memory-file reader under atheris (KEEP=1: new inputs join the corpus)
	$(BIN)/python -m tests.reference.memfile_fuzz $(MEMFILE_FUZZ_SECONDS) $(if $(KEEP),--keep)

steps-doc:  ## regenerate docs/steps.md from the step docstrings
	$(BIN)/python scripts/gen_steps_doc.py

bench:  ## the reference server's benchmarks: they print figures, they do not pass or fail
	$(BIN)/python benchmarks/bench_overhead.py
	$(BIN)/python benchmarks/bench_memory_scaling.py
	$(BIN)/python benchmarks/bench_save_load.py

bench-engine:  ## the load engine's own ceiling: chunks per second timed within 1 ms, processes used
	$(BIN)/python benchmarks/bench_engine.py

LOAD_DURATION ?= 300
LOAD_CONCURRENT ?= 20
LOAD_URL ?=
SOAK_DURATION ?= 75

test-atlas-server-performance:  ## the @load and @performance scenarios (2.5-4 min on 2 cores)
	$(BEHAVE) --tags=@load,@performance $(ARGS)

load-test:  ## scripts/atlas-load-test.py on LOAD_URL, or on a reference server it starts
	$(BIN)/python scripts/atlas-load-test.py --duration $(LOAD_DURATION) \
	  --concurrent $(LOAD_CONCURRENT) $(if $(LOAD_URL),--url $(LOAD_URL),--start-reference)

SWEEP_URL ?=
SWEEP_RATES ?= 0.5,1,2,4,8
SWEEP_STEP_SECONDS ?= 20
SWEEP_SLO ?= TTFT p99 <= 5 s, TPOT p99 <= 500 ms
SWEEP_USERS ?=
rate-sweep:  ## request rate (or SWEEP_USERS) up until the SLOs fail or the server saturates
	$(BIN)/python scripts/atlas-rate-sweep.py --rates $(SWEEP_RATES) \
	  $(if $(SWEEP_USERS),--concurrency $(SWEEP_USERS)) \
	  --step-seconds $(SWEEP_STEP_SECONDS) --slo "$(SWEEP_SLO)" \
	  $(if $(SWEEP_URL),--url $(SWEEP_URL),--start-reference)

RUNS ?= 3
flake-check:  ## the @timing scenarios RUNS times: which verdicts changed (reports/flake/)
	$(BIN)/python scripts/atlas-flake-check.py --runs $(RUNS) $(if $(ARGS),-- $(ARGS))

soak:  ## the @soak scenarios for SOAK_DURATION seconds (86400: 24 h)
	$(BEHAVE) --tags=@soak -D soak_duration=$(SOAK_DURATION) $(ARGS)

matrix:  ## the compatibility matrix of TARGETS (default targets.example.toml)
	$(BIN)/python scripts/atlas-matrix.py $(or $(TARGETS),targets.example.toml) $(MATRIX_ARGS)

serve:  ## run the reference server on port 8080 with ATLAS on
	$(BIN)/atlas-reference-server -m $$($(BIN)/atlas-reference-server --fetch-model) --atlas --port 8080

clean:
	rm -rf reports .pytest_cache .ruff_cache
