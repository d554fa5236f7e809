# signoff: `make run` opens the console on a demo store; `make test` runs the whole suite.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp
DEMO_HOME ?= .signoff-demo
DEMO_USER ?= rita
DEMO_PASSPHRASE ?= demo-passphrase

WHEELHOUSE ?= wheelhouse
OFFLINE_DIR ?= .offline-check
# The rehearsal sees no pip configuration and no PIP_* variables: only the wheelhouse.
OFFLINE_ENV := env -u PIP_FIND_LINKS -u PIP_INDEX_URL -u PIP_EXTRA_INDEX_URL -u PIP_CONSTRAINT \
	PIP_CONFIG_FILE=/dev/null PIP_NO_INDEX=1

.PHONY: venv postgres run demo test check bench clean wheelhouse offline-check

$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

venv: $(STAMP)

# The team-store tests start a throwaway PostgreSQL server from the system's binaries.
postgres:
	@if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 && ! command -v initdb >/dev/null 2>&1; then \
		SUDO=$$([ "$$(id -u)" = 0 ] || echo sudo); \
		$$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq postgresql; \
	fi

demo: venv
	@test -f $(DEMO_HOME)/signoff.duckdb || $(VENV)/bin/signoff demo --home $(DEMO_HOME)

run: demo
	SIGNOFF_PASSPHRASE=$(DEMO_PASSPHRASE) $(VENV)/bin/signoff --home $(DEMO_HOME) --as $(DEMO_USER)

test: venv postgres
	@command -v strace >/dev/null || apt-get install -y strace >/dev/null || echo "no strace: the no-network test will skip"
	$(PY) -m pytest -q -n 2 --disable-socket --allow-unix-socket -p no:cacheprovider tests

check: venv
	$(VENV)/bin/ruff check console audit reports fixtures tests
	$(VENV)/bin/ruff format --check console audit reports fixtures tests
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports

bench: venv postgres
	$(PY) -m pytest -q -s -p no:cacheprovider tests/benchmarks

# Everything an air-gapped machine needs: signoff and its [dev] extras as wheels, plus the
# build requirements (setuptools, wheel) that `pip install -e .` needs without an index.
wheelhouse: venv
	mkdir -p $(WHEELHOUSE)
	$(PY) -m pip download --quiet --dest $(WHEELHOUSE) '.[dev]' 'setuptools>=68' wheel pip
	$(PY) -m pip wheel --quiet --no-deps --wheel-dir $(WHEELHOUSE) .
	@echo "wheelhouse: $$(ls $(WHEELHOUSE) | wc -l) files in $(WHEELHOUSE)/"

# The air-gapped install rehearsed here: a fresh venv, `--no-index` from the wheelhouse only,
# then the demo is built and its log verified. Not part of `make test` (it takes minutes).
offline-check:
	@test -d $(WHEELHOUSE) || { echo "no $(WHEELHOUSE)/: run make wheelhouse first"; exit 2; }
	rm -rf $(OFFLINE_DIR)
	$(PYTHON) -m venv $(OFFLINE_DIR)/venv
	$(OFFLINE_ENV) $(OFFLINE_DIR)/venv/bin/pip install --quiet --no-index \
		--find-links $(WHEELHOUSE) -e '.[dev]'
	$(OFFLINE_DIR)/venv/bin/signoff demo --home $(OFFLINE_DIR)/demo
	$(OFFLINE_DIR)/venv/bin/signoff audit verify --home $(OFFLINE_DIR)/demo
	@echo "offline-check: installed from $(WHEELHOUSE)/ alone, demo built and verified"

clean:
	rm -rf $(VENV) $(DEMO_HOME) $(OFFLINE_DIR) .mypy_cache .ruff_cache
