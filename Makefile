# Two entry points that work on a fresh machine with Python 3.11 and pip.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test bench lint mutants clean

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

# Pyflakes checks and the 100-column limit over the package and the tests.
lint: $(STAMP)
	$(BIN)/ruff check --select F,E501 tensorflux tests

# Plants each bug of tools/mutants/mutants.toml in a temporary copy and runs its tests (2 at a
# time); writes tools/mutants/REPORT.md and fails below 90% killed. ID=name runs one mutant.
mutants: $(STAMP)
	$(BIN)/python tools/mutants/run.py $(if $(ID),--only $(ID))

bench: $(STAMP)
	$(BIN)/python benchmarks/run.py

clean:
	rm -rf $(VENV) build *.egg-info
