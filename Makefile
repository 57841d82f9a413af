# Two commands do everything on a fresh machine:
#   make demo   set up .venv (the package only), make the sample clip, track it -> sample_videos/demo_annotated.mp4
#   make test   set up .venv with the test tools (.[dev]) and run the test suite
# Offline, name a model on disk: make demo MODEL=../shared/assets/models/yolo11n_int8_openvino_model
# (else $VIDTRACK_MODEL, else Ultralytics downloads yolo11n.pt on first use).
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
MODEL ?=
# Extra pip arguments, e.g. PIP_ARGS='--extra-index-url https://download.pytorch.org/whl/cpu' for the CPU-only torch.
PIP_ARGS ?=
STAMP := $(VENV)/.installed
DEV_STAMP := $(VENV)/.installed-dev

.PHONY: setup setup-dev demo test bench clean

setup: $(STAMP)

setup-dev: $(DEV_STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q $(PIP_ARGS) -e .
	touch $(STAMP)

$(DEV_STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q $(PIP_ARGS) -e '.[dev]'
	touch $(STAMP) $(DEV_STAMP)

demo: setup
	$(BIN)/vidtrack demo $(if $(MODEL),--model '$(MODEL)')

test: setup-dev
	$(BIN)/python -m pytest -q

bench: setup-dev
	$(BIN)/python benchmarks/vs_ultralytics.py

clean:
	rm -rf $(VENV) out sample_videos/*.mp4 sample_videos/*.jsonl sample_videos/*.json
