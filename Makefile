# Two commands on a fresh machine:  make run  ·  make test
# Everything is installed into .venv (Python) and tests/browser/node_modules (axe-core, vnu.jar).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
BROWSER_TOOLS := tests/browser/node_modules/.installed
VENV_MIN := .venv-min
MIN_TESTS := tests/test_publish.py tests/test_edition_contract.py tests/test_bucket.py tests/test_pipeline.py tests/test_render.py tests/test_pdf.py tests/test_pdf_structure.py tests/test_gias.py
OUT ?= site

export PREFECT_SERVER_ANALYTICS_ENABLED := false

.PHONY: help debian-packages run preview stop test test-min bench bench-faults validate screenshots clean

help:  ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/'

$(STAMP): pyproject.toml .ci/constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c .ci/constraints.txt -e '.[dev]'
	touch $@

# --ignore-scripts: vnu-jar's install script would download a Java runtime; the system's Java runs it.
$(BROWSER_TOOLS): tests/browser/package.json tests/browser/package-lock.json
	cd tests/browser && npm ci --ignore-scripts --no-audit --no-fund --silent
	touch $@

# Checked first, so a fresh machine learns what it lacks before pip runs (installed as root).
debian-packages:
	@bash .ci/debian-packages.sh

run: debian-packages $(STAMP)  ## set up, start the embedded S3 and a local Prefect server if needed, publish every school, verify every notice
	$(BIN)/notices s3 start
	$(BIN)/notices prefect start
	$(BIN)/notices log keygen --if-missing
	$(BIN)/notices publish
	$(BIN)/notices verify

preview: $(STAMP)  ## render every school into site/ without publishing
	$(BIN)/notices render --out $(OUT)

stop: $(STAMP)  ## stop the embedded S3 and the Prefect server that make run started
	$(BIN)/notices prefect stop
	$(BIN)/notices s3 stop

validate: $(STAMP)  ## check every configuration file
	$(BIN)/notices validate

test: $(STAMP) $(BROWSER_TOOLS)  ## set up and run the test suite (lint and type checks first: they take seconds)
	$(BIN)/ruff check flows tests
	$(BIN)/ruff format --check flows tests
	$(BIN)/lint-imports
	$(BIN)/mypy
	$(BIN)/python -m pytest

screenshots: $(STAMP)  ## phone and desktop screenshots of every page type and the PDF's first page, into templates/screenshots/
	$(BIN)/python tests/tools/screenshots.py --out templates/screenshots

$(VENV_MIN)/.installed: pyproject.toml .ci/constraints-min.txt
	rm -rf $(VENV_MIN)
	$(PYTHON) -m venv $(VENV_MIN)
	$(VENV_MIN)/bin/python -m pip install --quiet --upgrade pip
	$(VENV_MIN)/bin/python -m pip install --quiet -c .ci/constraints-min.txt -e '.[dev]'
	touch $@

test-min: $(VENV_MIN)/.installed  ## the publishing tests on the lowest versions pyproject.toml allows (CI runs it)
	$(VENV_MIN)/bin/python -m pytest -q $(MIN_TESTS) -p no:cacheprovider --deselect tests/test_gias.py::test_readme_path_import_fill_validate_publish

# The aws CLI for `make bench` (aws s3 sync, the yardstick): its own venv, because awscli pins
# a botocore other than the one our boto3 needs.
VENV_BENCH := .venv-bench
BENCH_N ?= 100,1000
BENCH_PDF_N ?= 300

$(VENV_BENCH)/.installed:
	rm -rf $(VENV_BENCH)
	$(PYTHON) -m venv $(VENV_BENCH)
	$(VENV_BENCH)/bin/python -m pip install --quiet --upgrade pip
	$(VENV_BENCH)/bin/python -m pip install --quiet 'awscli>=1.34,<2'
	touch $@

bench: $(STAMP) $(VENV_BENCH)/.installed  ## measure publishing at scale vs its floor and aws s3 sync (BENCH_N=100,1000 BENCH_PDF_N=300; not part of make test)
	$(BIN)/python tests/bench/bench_scale.py --schools $(BENCH_N) --pdf-schools $(BENCH_PDF_N) --aws $(VENV_BENCH)/bin/aws

bench-faults: $(STAMP)  ## soak: `notices publish` through a fault proxy at 10, 20 and 40 % (4 runs each, then a clean one; not part of make test)
	$(BIN)/python tests/bench/bench_faults.py

clean:  ## remove the venv, node modules and rendered output (not the embedded S3's data: ~/.local/state/trust-notices, see README)
	rm -rf $(VENV) $(VENV_MIN) $(VENV_BENCH) tests/browser/node_modules $(OUT) .pytest_cache
