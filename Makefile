# planflow: two commands, each creating or reusing the local virtual environment .venv
VENV   ?= .venv
PYTHON ?= python3
STAMP  := $(VENV)/.installed-stamp

.PHONY: demo test faults lint bench clean

$(STAMP): pyproject.toml
	@test -x $(VENV)/bin/python || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/python -m pip install --quiet --disable-pip-version-check -e '.[test]'
	@touch $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/planflow demo

lint: $(STAMP)
	$(VENV)/bin/ruff check planflow tests benchmarks
	$(VENV)/bin/mypy

# two worker processes (pytest-xdist), a file's tests on one worker: the demo's tests share one
# file, collected first (tests/demo/), so the demo runs once while the other worker goes on;
# TEST_WORKERS=0 runs them in one process. Then, in one process, the tests that start a real
# Prefect server and its workers (-m server): beside the others they slowed everything down.
TEST_WORKERS ?= 2
test: $(STAMP)
	$(VENV)/bin/python -m pytest -q -m "not faults and not server" -n $(TEST_WORKERS) --dist loadfile
	$(VENV)/bin/python -m pytest -q -m "server and not faults"

# the fault suite (races, dropped connections, kills, hostile files): `.ci/run` runs it apart
faults: $(STAMP)
	$(VENV)/bin/python -m pytest -q -m faults

# the portal benchmark needs PostgreSQL (PLANFLOW_BENCH_POSTGRES_URL, default 127.0.0.1:5432/test;
# a schema of its own, dropped after); without a reachable server it says so and is skipped
bench: $(STAMP)
	$(VENV)/bin/python -m benchmarks
	$(VENV)/bin/python benchmarks/reorganise.py
	$(VENV)/bin/python benchmarks/hostile.py
	$(VENV)/bin/python benchmarks/portal.py

clean:
	rm -rf $(VENV) .pytest_cache
