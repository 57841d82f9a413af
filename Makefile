# Two commands do everything on a fresh machine:
#   make demo   set up .venv, make the sample clip, track it -> sample_videos/demo_annotated.mp4
#   make test   set up .venv and run the test suite
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: setup demo test bench clean

setup: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev]'
	touch $(STAMP)

demo: setup
	$(BIN)/vidtrack demo

test: setup
	$(BIN)/python -m pytest -q

bench: setup
	$(BIN)/python benchmarks/vs_ultralytics.py

clean:
	rm -rf $(VENV) sample_videos/*.mp4 sample_videos/*.jsonl sample_videos/*.json
