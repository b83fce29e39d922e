# The two commands of ganedu. Each works from a fresh clone: it creates .venv if missing,
# installs ganedu with its extras, provides the data, then runs.
#   make lab    JupyterLab on course/
#   make test   lint, the package's tests (with the autograder meta-tests), every notebook in smoke mode

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: lab test test-unit test-grading test-notebooks data install lint clean-venv

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[course,dev]"
	touch $(STAMP)

install: $(STAMP)

data: $(STAMP)
	$(PY) -m ganedu data fetch fashion-mnist
	$(PY) -m ganedu data fetch inception

lint: $(STAMP)
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .

lab: data
	$(VENV)/bin/jupyter lab course/

test: data lint test-unit test-grading test-notebooks

# each part reports its wall time, for the CI table in benchmarks/README.md
TIMED = @t0=$$(date +%s); trap 'echo "::time $@ $$(( $$(date +%s) - t0 ))s"' EXIT;

test-unit: $(STAMP)
	$(TIMED) $(PY) -m pytest tests/ -p no:cacheprovider --ignore=tests/test_exercises_meta.py

test-grading: $(STAMP)
	$(TIMED) $(PY) -m pytest tests/test_exercises_meta.py -p no:cacheprovider

test-notebooks: $(STAMP)
	$(TIMED) CI=true $(PY) -m pytest --nbval-lax -p no:cacheprovider course/

clean-venv:
	rm -rf $(VENV)
