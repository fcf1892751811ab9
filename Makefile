# Two entry points that work on a fresh machine with Python 3.11 and pip.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test interop bench bench-distributed lint mutants fuzz stress clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[test]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/python examples/mnist_softmax.py

# Two test workers on two cores: one BLAS thread each avoids oversubscription.
test: $(STAMP)
	OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 $(BIN)/python -m pytest -n 2 tests

# TensorFlow 2.21 in a virtualenv of its own (never a dependency of tensorflux), created when
# absent (with Keras 1.2.2 beside it, for the `keras1` tests): tests/interop and every test
# marked `tensorflow` run against it. There TensorFlow must
# import and nothing may skip (TENSORFLUX_INTEROP=1, see tests/conftest.py); `make test` skips
# the tests that need TensorFlow instead.
PEERS ?= .peers
PEERS_STAMP := $(PEERS)/.installed
TENSORFLOW ?= tensorflow-cpu==2.21.0

$(PEERS_STAMP): pyproject.toml Makefile
	test -x $(PEERS)/bin/python || $(PY) -m venv $(PEERS)
	$(PEERS)/bin/python -m pip install -q --upgrade pip
	$(PEERS)/bin/python -m pip install -q '$(TENSORFLOW)' -e '.[test]'
	$(PEERS)/bin/python -m pip install -q --no-deps --target $(PEERS)/keras1 \
	    keras==1.2.2 pyyaml six
	touch $(PEERS_STAMP)

interop: $(PEERS_STAMP)
	$(PEERS)/bin/python -c "import tensorflow as t; print('TensorFlow', t.__version__); \
	    assert t.__version__.startswith('2.21.'), 'make interop needs TensorFlow 2.21'"
	TENSORFLUX_INTEROP=1 TF_CPP_MIN_LOG_LEVEL=2 OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 \
	    TENSORFLUX_KERAS1_PATH=$(CURDIR)/$(PEERS)/keras1 \
	    $(PEERS)/bin/python -m pytest -m "interop or tensorflow or keras1" tests

# Pyflakes checks and the 100-column limit over the package and the tests.
lint: $(STAMP)
	$(BIN)/ruff check --select F,E501 tensorflux tests

# Plants each bug of tools/mutants/mutants.toml in a temporary copy and runs its tests (2 at a
# time); writes tools/mutants/REPORT.md and fails below 90% killed. ID=name runs one mutant.
mutants: $(STAMP)
	$(BIN)/python tools/mutants/run.py $(if $(ID),--only $(ID))

# A long op-fuzzing campaign over every registered op (tests/op_fuzz.py): counts per op family
# and outcome, then any failure. EXAMPLES=n Hypothesis cases per target, SEED=s.
# Then the reader mutation fuzzer (tools/fuzz/readers.py): MUTATIONS=n mutated files per
# reader target (docs/FUZZING_AND_LIMITS.md).
EXAMPLES ?= 12
SEED ?= 0
MUTATIONS ?= 1000
fuzz: $(STAMP)
	OPENBLAS_NUM_THREADS=1 $(BIN)/python tools/fuzz/run.py --examples $(EXAMPLES) --seed $(SEED)
	OPENBLAS_NUM_THREADS=1 $(BIN)/python tools/fuzz/readers.py --mutations $(MUTATIONS) \
	    --seed $(SEED)

# The concurrency tests RUNS times in a row, each run a fresh pytest process (no pytest-repeat
# needed); stops at the first failing run. STRESS=path picks other tests, e.g.
# STRESS=tests/reliability adds the kill -9 tests (about a minute a run on 2 busy cores).
RUNS ?= 50
STRESS ?= tests/reliability/test_concurrency.py tests/runtime/test_concurrent_steps.py
stress: $(STAMP)
	@for i in $$(seq 1 $(RUNS)); do \
	    OPENBLAS_NUM_THREADS=1 $(BIN)/python -m pytest -q -p no:cacheprovider $(STRESS) \
	        > .stress.log 2>&1 || { cat .stress.log; echo "stress: run $$i of $(RUNS) failed"; \
	        exit 1; }; \
	    echo "stress: run $$i of $(RUNS) passed"; \
	done; rm -f .stress.log

# Step times and peak memory of every workload (about 10 minutes); writes benchmarks/RESULTS.md.
# TensorFlow, PyTorch and NumPy's own GEMM run under BENCH_PEERS (default: the interop venv
# when it exists, else this venv's Python, where missing peers are skipped).
BENCH_PEERS ?= $(wildcard $(PEERS)/bin/python)
bench: $(STAMP)
	$(BIN)/python benchmarks/run.py $(if $(BENCH_PEERS),--peer_python $(BENCH_PEERS),) $(BENCH_ARGS)

# The distributed analogues of the OSDI paper's Figures 7 and 8 (benchmarks/README.md): null
# steps (against TensorFlow's gRPC runtime too when .peers exists), stragglers and backup
# workers, time to accuracy, RecvTensor throughput. About 15 minutes on 2 cores.
bench-distributed: $(STAMP)
	$(BIN)/python benchmarks/distributed/recv_throughput.py
	$(BIN)/python benchmarks/distributed/null_steps.py $(if $(wildcard $(PEERS)/bin/python),--peer_python $(PEERS)/bin/python,)
	$(BIN)/python benchmarks/distributed/sync_stragglers.py

clean:
	rm -rf $(VENV) $(PEERS) build *.egg-info
