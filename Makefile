# The two commands of a fresh machine (each sets up what it needs first: scripts/setup.sh).
.PHONY: demo test test-fast setup lint bench lock

demo: setup            ## synth 200 orders → daily flow on the embedded PostgreSQL → verdicts
	.venv/bin/callaudit demo

test:                  ## pytest on real PostgreSQL, Prefect, dbt, Great Expectations and headless Chromium
	@scripts/setup.sh --browser
	.venv/bin/python -m pytest -q --durations=15 $(PYTEST_ARGS)

test-fast: setup       ## the tests that need no daily flow, server or big model (units, contract, rules)
	.venv/bin/python -m pytest -q -m "not slow" --durations=10 $(PYTEST_ARGS)

setup:
	@scripts/setup.sh

lint: setup
	.venv/bin/ruff check . && .venv/bin/ruff format --check .

bench: setup
	.venv/bin/python benchmarks/load_throughput.py

lock:                  ## re-resolve requirements.lock after changing pyproject.toml
	.venv/bin/uv pip compile pyproject.toml --extra dev -p 3.11 --find-links /opt/wheels -o requirements.lock
