# Two commands do everything on a fresh machine:
#   make demo   set up .venv (the package only), make the sample clip, track it -> sample_videos/demo_annotated.mp4
#   make test   set up .venv with the test tools (.[dev]) and run the test suite
#   make test-perturbed [SEED=N]   the tests that ran a model, again under the numerics pass
#   (CI runs `make test` once with VIDTRACK_TEST_PERTURB set to a new seed: see .ci/run)
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

.PHONY: setup setup-dev demo test test-perturbed bench clean

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
	VIDTRACK_MODEL_TESTS=.model-tests.txt $(BIN)/python -m pytest -q

# The tests that ran a model backend in the last `make test` (listed in .model-tests.txt; without
# that list, every real-data test, marked realdata by tests/conftest.py) again, with every model
# output moved as on another CPU (VIDTRACK_TEST_PERTURB, see src/vidtrack/detection/perturb.py);
# a new seed each run unless SEED is given. Tests that ran no model cannot see the perturbation.
# Exit 5 (no test selected) is not a failure.
ifndef SEED
SEED := $(shell od -An -N2 -tu2 /dev/urandom | tr -d ' ')
endif
test-perturbed: setup-dev
	@echo "numerics pass: VIDTRACK_TEST_PERTURB=$(SEED) (reproduce: make test-perturbed SEED=$(SEED))"
	if [ -s .model-tests.txt ]; then select="VIDTRACK_ONLY_TESTS=.model-tests.txt"; else select=""; fi; \
	if [ -n "$$select" ]; then marker=""; else marker="-m realdata"; fi; \
	env $$select VIDTRACK_TEST_PERTURB=$(SEED) $(BIN)/python -m pytest -q $$marker; status=$$?; \
	if [ $$status -eq 5 ]; then exit 0; else exit $$status; fi

bench: setup-dev
	$(BIN)/python benchmarks/vs_ultralytics.py

clean:
	rm -rf $(VENV) out sample_videos/*.mp4 sample_videos/*.jsonl sample_videos/*.json
