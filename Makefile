# signoff: `make run` opens the console on a demo store; `make test` runs the whole suite.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
DEMO_HOME ?= .signoff-demo
DEMO_USER ?= rita
DEMO_PASSPHRASE ?= demo-passphrase

.PHONY: venv run demo test check bench clean

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

venv: $(STAMP)

demo: venv
	@test -f $(DEMO_HOME)/signoff.duckdb || $(VENV)/bin/signoff demo --home $(DEMO_HOME)

run: demo
	SIGNOFF_PASSPHRASE=$(DEMO_PASSPHRASE) $(VENV)/bin/signoff --home $(DEMO_HOME) --as $(DEMO_USER)

test: venv
	$(PY) -m pytest -q -n 2 --disable-socket --allow-unix-socket -p no:cacheprovider tests

check: venv
	$(VENV)/bin/ruff check console audit reports fixtures tests
	$(VENV)/bin/ruff format --check console audit reports fixtures tests
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports

bench: venv
	$(PY) -m pytest -q -s -p no:cacheprovider tests/benchmarks

clean:
	rm -rf $(VENV) $(DEMO_HOME) .mypy_cache .ruff_cache
