# Two entry points (see README): `make demo` and `make test`. Both create the environment first.
VENV   ?= .venv
PYTHON ?= python3
PY     := $(VENV)/bin/python
# torch is installed first, from your package index: on Linux, PyPI's torch is the CUDA build
# (several GB). For the CPU-only build: make TORCH="torch==2.13.0 --index-url https://download.pytorch.org/whl/cpu"
TORCH  ?= torch==2.13.0

.PHONY: demo test env clean

$(VENV)/.installed: pyproject.toml Makefile
	$(PYTHON) -m venv $(VENV)
	$(PY) -c "import torch" 2>/dev/null || $(PY) -m pip install --quiet $(TORCH)
	$(PY) -m pip install --quiet -e ".[dev]"
	touch $@

env: $(VENV)/.installed

demo: env
	$(VENV)/bin/formtune demo

# The fast suite (minutes); the slow tests on the real default model run with `$(PY) -m pytest --run-slow`.
test: env
	OMP_WAIT_POLICY=PASSIVE $(PY) -m pytest
