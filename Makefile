# The two commands of ganedu. Each works from a fresh clone: it creates .venv if missing,
# installs ganedu with its extras, provides the data, then runs.
#   make lab    JupyterLab on course/
#   make test   lint, the package's tests (with the autograder meta-tests), every notebook in smoke mode
# CI adds (.ci/run):
#   make test-browser  every notebook run in JupyterLab in headless Chromium, every widget moved
#   make book          the course executed and rendered as a static site in build/book/
# On a machine with a CUDA GPU:
#   make instructor    every solution graded and every notebook run in full mode on the GPU;
#                      a report of wall times and final metrics in build/instructor/ (ARGS= adds options)
# TORCH=cpu installs PyTorch's CPU-only wheels: .venv takes about 2 GB instead of 6 GB with CUDA.

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

TORCH ?=
TORCH_CPU_INDEX := https://download.pytorch.org/whl/cpu

.PHONY: lab test test-unit test-grading test-notebooks test-browser book instructor data install lint clean-venv

$(STAMP): pyproject.toml
	@echo "== ganedu: setting up $(VENV) (Python packages, once; see README, Installing)"
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	@if [ "$(TORCH)" = cpu ]; then \
	  echo "== PyTorch, CPU-only wheels (about 200 MB to download)"; \
	  $(PY) -m pip install "torch>=2.2,<2.15" "torchvision>=0.17,<0.30" --index-url $(TORCH_CPU_INDEX); \
	else \
	  echo "== PyTorch with its CUDA libraries: .venv grows to about 6 GB, 5 to 20 minutes the first time"; \
	  echo "   (no NVIDIA GPU? stop here and run: make clean-venv; make lab TORCH=cpu)"; \
	fi
	@echo "== ganedu[course,dev] and the rest: JupyterLab, pytest, ruff, Playwright"
	$(PY) -m pip install -e ".[course,dev]"
	touch $(STAMP)
	@echo "== $(VENV) is ready"

install: $(STAMP)

data: $(STAMP)
	$(PY) -m ganedu data fetch fashion-mnist
	$(PY) -m ganedu data fetch inception

lint: $(STAMP)
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .

# --allow-root: as root (containers, Codespaces) JupyterLab refuses to start without it
lab: data
	$(VENV)/bin/jupyter lab $$([ "$$(id -u)" = 0 ] && echo --allow-root) course/

test: data lint test-unit test-grading test-notebooks

# each part reports its wall time, for the CI table in benchmarks/README.md
TIMED = @t0=$$(date +%s); trap 'echo "::time $@ $$(( $$(date +%s) - t0 ))s"' EXIT;

test-unit: $(STAMP)
	$(TIMED) $(PY) -m pytest tests/ -p no:cacheprovider --ignore=tests/test_exercises_meta.py

test-grading: $(STAMP)
	$(TIMED) $(PY) -m pytest tests/test_exercises_meta.py -p no:cacheprovider

test-notebooks: $(STAMP)
	$(TIMED) CI=true $(PY) -m pytest -p nbval --nbval-lax -p no:cacheprovider course/

# JupyterLab in headless Chromium (Debian's chromium, driven by Playwright); screenshots of
# failures in build/browser/
test-browser: data
	$(TIMED) CI=true $(PY) -m pytest tests/browser -m browser -p no:cacheprovider -v

# the course executed (cpu mode unless GANEDU_MODE says otherwise) and rendered with its
# figures and maths: build/book/html/index.html; fails on broken links, figures or maths
book: data
	$(TIMED) GANEDU_MODE=$(or $(GANEDU_MODE),cpu) $(PY) book/build.py

# refuses (exit 2, nothing run) without a CUDA GPU; e.g. ARGS="--notebooks 07 08 --out build/gpu"
instructor: $(STAMP)
	$(TIMED) $(PY) -m ganedu instructor $(ARGS)

clean-venv:
	rm -rf $(VENV)
