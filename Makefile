# Two commands matter: `make demo` and `make test`. Both set everything up on a fresh machine
# with Python 3.11+: uv is installed into .tools/ when it is not on PATH, then uv installs the
# locked dependencies into .venv/.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
UV := $(shell command -v uv 2>/dev/null || echo $(CURDIR)/.tools/bin/uv)
export UV_PYTHON_DOWNLOADS := never
export UV_LINK_MODE := copy
RUN := $(UV) run --locked
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
DEMO_DIR ?= $(CURDIR)/data/demo
PORT ?= 3000

.PHONY: help setup chromium test lint typecheck validate unit simulation-check demo ui screenshots bench clean

help:
	@echo "make demo   set up, generate demo data, run the pipeline into a local Dagster instance"
	@echo "make ui     open the Dagster UI on the demo instance (after make demo; PORT=3001 for another port)"
	@echo "make test   set up and run lint, type check, definitions validation and the test suite"
	@echo "make simulation-check  the 60-day, 5,000-customer simulation under heavy faults (CI runs it after make test)"
	@echo "make screenshots  regenerate docs/*.png from a fresh demo (a few minutes; REUSE=1: of the make demo folder)"
	@echo "make bench  run the benchmarks (about 15 minutes) and write benchmarks/results/"

# uv into .tools/: a venv of its own, or, where python3 -m venv is missing (Debian/Ubuntu without
# python3-venv), pip's user install (with --break-system-packages where the system pip refuses),
# linked into .tools/bin so that every rule below uses the same path.
$(CURDIR)/.tools/bin/uv:
	@if $(PYTHON) -m venv $(CURDIR)/.tools && $(CURDIR)/.tools/bin/python -m pip install --quiet uv; then \
		echo "installed uv into $(CURDIR)/.tools"; \
	else \
		echo "python3 -m venv is not usable here; installing uv with pip --user"; \
		rm -rf $(CURDIR)/.tools && mkdir -p $(CURDIR)/.tools/bin && \
		{ $(PYTHON) -m pip install --quiet --user uv || \
		  $(PYTHON) -m pip install --quiet --user --break-system-packages uv; } && \
		ln -sf "$$($(PYTHON) -m site --user-base)/bin/uv" $@ && \
		test -x $@; \
	fi

.venv/.synced: uv.lock pyproject.toml | $(UV)
	$(UV) sync --locked
	touch $@

# Debian's chromium for the dashboard's browser tests (Playwright drives /usr/bin/chromium).
chromium:
	@test -x /usr/bin/chromium || { \
		if command -v apt-get >/dev/null; then \
			echo "installing Debian's chromium (the dashboard's browser tests drive it)"; \
			$(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq chromium; \
		else \
			echo "warning: /usr/bin/chromium is missing and apt-get is not here: the browser tests will fail"; \
		fi; }

# uv from .tools/ is not on PATH: say how to run the README's commands.
setup: .venv/.synced chromium
	@command -v uv >/dev/null 2>&1 || echo "uv is in .tools/bin, not on your PATH: run the README's commands as" \
		"'.tools/bin/uv run reminders ...', or first: export PATH=\"$(CURDIR)/.tools/bin:\$$PATH\""

lint: setup
	$(RUN) ruff check .
	$(RUN) ruff format --check .

typecheck: setup
	$(RUN) mypy

validate: setup
	$(RUN) dagster definitions validate -m reminder_pipeline.definitions

# One pytest worker per core (pytest-xdist); a file's tests stay together, so that a module's
# expensive fixture (the demo, the audited ledger) is built once.
unit: setup
	$(RUN) pytest -n auto --dist loadfile --durations=25

test: lint typecheck validate unit

# The issue's full-size run (60 days x 5,000 customers, heavy faults; minutes): CI runs it after make test.
simulation-check: setup
	$(RUN) pytest -m ci_simulation --durations=5

demo: setup
	$(RUN) reminders demo --workdir $(DEMO_DIR)

ui: setup
	@test -f $(DEMO_DIR)/demo.env || { echo "run 'make demo' first"; exit 1; }
	@echo "the Dagster UI of the demo: http://127.0.0.1:$(PORT)"
	cd $(DEMO_DIR) && set -a && . ./demo.env && set +a && \
		$(RUN) --project $(CURDIR) dagster dev -m reminder_pipeline.definitions -p $(PORT)

# Every PNG in docs/ from a fresh demo in a temporary folder; REUSE=1 takes them of the demo of make demo.
screenshots: setup
	$(RUN) python docs/screenshots.py $(if $(REUSE),--workdir $(DEMO_DIR) --reuse)

bench: setup
	$(RUN) python -m benchmarks.ingest --invoices 1000000
	$(RUN) python -m benchmarks.daily_run --customers 200000
	$(RUN) python -m benchmarks.against_floor --customers 2500 25000 100000 --runs 3
	$(RUN) python -m benchmarks.render --messages 1000000
	$(RUN) python -m benchmarks.delivery --messages 20000
	$(RUN) python -m benchmarks.payments --payments 20000 --latency-payments 5000 --rate 500
	$(RUN) python -m benchmarks.webhooks
	$(RUN) python -m benchmarks.dashboard --customers 100000 --invoices 1000000

clean:
	rm -rf .venv .tools data .pytest_cache .mypy_cache .ruff_cache
