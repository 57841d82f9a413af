# Two commands do everything on a fresh machine:
#   make demo   set up .venv, make the sample clip, track it -> sample_videos/demo_annotated.mp4
#   make test   set up .venv and run the test suite
#   make test-perturbed [SEED=N]   the real-data tests again under the numerics pass (CI runs it too)
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: setup demo test test-perturbed bench clean

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

# The real-data tests (marked realdata by tests/conftest.py) with every model output moved as on
# another CPU (VIDTRACK_TEST_PERTURB, see src/vidtrack/detection/perturb.py); a new seed each run
# unless SEED is given. Exit 5 (no test selected) is not a failure.
ifndef SEED
SEED := $(shell od -An -N2 -tu2 /dev/urandom | tr -d ' ')
endif
test-perturbed: setup
	@echo "numerics pass: VIDTRACK_TEST_PERTURB=$(SEED) (reproduce: make test-perturbed SEED=$(SEED))"
	VIDTRACK_TEST_PERTURB=$(SEED) $(BIN)/python -m pytest -q -m realdata; status=$$?; \
	if [ $$status -eq 5 ]; then exit 0; else exit $$status; fi

bench: setup
	$(BIN)/python benchmarks/vs_ultralytics.py

clean:
	rm -rf $(VENV) sample_videos/*.mp4 sample_videos/*.jsonl sample_videos/*.json
