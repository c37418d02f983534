# The two commands of the README's quick start. Both create .venv when it is missing.
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
TEST_STAMP := $(VENV)/.installed-test

.PHONY: demo test test-all test-postgresql lint bench clean browser-deps postgres-deps

$(PY):
	$(PYTHON) -m venv $(VENV) || python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip

$(STAMP): $(PY) setup.cfg pyproject.toml
	$(PY) -m pip install -q -e .
	touch $@

$(TEST_STAMP): $(PY) setup.cfg pyproject.toml
	$(PY) -m pip install -q -e '.[test]'
	touch $@ $(STAMP)

demo: $(STAMP)
	$(PY) -m sandbox.demo

test: $(TEST_STAMP)
	$(PY) -m pytest -q

test-all: $(TEST_STAMP)
	$(PY) -m pytest -q -m ''

# The sync, CLI and fault suites whole with the state in PostgreSQL (`make test` runs their key
# tests on both backends); a separate step of .ci/run, to keep `make test` under 10 minutes.
POSTGRES_SUITES = tests/test_sync_integration.py tests/test_cli_sync.py tests/test_faults.py
test-postgresql: $(TEST_STAMP)
	ESCALATION_SYNC_TEST_STATE_BACKENDS=postgresql $(PY) -m pytest -q $(POSTGRES_SUITES)

# mypy checks the packages listed under [tool.mypy] in pyproject.toml.
lint: $(TEST_STAMP)
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	$(PY) -m mypy

bench: $(STAMP)
	$(PY) bench/bench_engine.py

# The report's browser test: Debian's Chromium and its WebDriver (as root; skipped if present).
browser-deps:
	command -v chromium >/dev/null && command -v chromedriver >/dev/null || \
		(apt-get update && apt-get install -y chromium chromium-driver)

# The PostgreSQL state store's tests start a throwaway cluster with Debian's server (as root;
# skipped if present). They run initdb and pg_ctl as the package's postgres user.
postgres-deps:
	ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1 || \
		(apt-get update && apt-get install -y postgresql)

clean:
	rm -rf $(VENV) build *.egg-info
