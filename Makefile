# Two commands for a newcomer: `make demo` and `make test`.
# Both create .venv on first use with the newest Python >= 3.12 found on PATH.

VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
CANDIDATES := python3.14 python3.13 python3.12 python3 python

.PHONY: demo test test-fast lint format bench clean-venv

$(STAMP): pyproject.toml
	@set -e; \
	if [ ! -x $(PY) ]; then \
	  found=""; \
	  for c in $(CANDIDATES); do \
	    if command -v $$c >/dev/null 2>&1 && $$c -c 'import sys; sys.exit(sys.version_info < (3, 12))' 2>/dev/null; then found=$$c; break; fi; \
	  done; \
	  if [ -z "$$found" ]; then echo "opsflow needs Python 3.12 or newer, and none of $(CANDIDATES) on PATH is one: install it (e.g. pyenv install 3.12) and run make again." >&2; exit 1; fi; \
	  echo "Creating $(VENV) with $$found ($$($$found --version))"; \
	  $$found -m venv $(VENV); \
	fi; \
	$(PY) -m pip install --quiet --disable-pip-version-check --upgrade pip; \
	$(PY) -m pip install --quiet --disable-pip-version-check -e '.[test]'; \
	touch $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/opsflow demo

# Everything: lint, layer contracts, unit and integration tiers, doctests (what CI runs).
# Headless Chromium (Debian's package) is installed first for the QC report's browser test.
test: lint
	bash scripts/install_chromium.sh
	$(PY) -m pytest -q

# The unit tier and doctests only, for development (well under a minute).
test-fast: lint
	$(PY) -m pytest -q -m "not slow"

lint: $(STAMP)
	$(VENV)/bin/ruff check src tests benchmarks scripts
	$(VENV)/bin/ruff format --check src tests benchmarks scripts
	$(VENV)/bin/lint-imports

format: $(STAMP)
	$(VENV)/bin/ruff format src tests benchmarks scripts
	$(VENV)/bin/ruff check --fix src tests benchmarks scripts

bench: $(STAMP)
	$(PY) benchmarks/bench_export.py

clean-venv:
	rm -rf $(VENV)
