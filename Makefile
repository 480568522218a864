# Two commands on a fresh machine: `make run` and `make test` (see README.md).
VENV    := .venv
PY      := $(VENV)/bin/python
FLASK   := $(VENV)/bin/flask --app wsgi
PORT    ?= 5000
HOST    ?= 127.0.0.1
WORKERS ?= 4
PYTEST_ARGS ?= -n 3

.PHONY: setup system-deps run serve test lint format migrate demo bench bench-concurrency clean

$(VENV)/.installed: pyproject.toml
	@command -v python3 >/dev/null || { echo "python3 (3.11+) is needed"; exit 1; }
	@echo "== setting up $(VENV) (Python packages)"
	python3 -m venv $(VENV)
	$(VENV)/bin/pip install -q --upgrade pip
	$(VENV)/bin/pip install -q -e '.[dev]'
	@touch $@

setup: $(VENV)/.installed

# PostgreSQL and Chromium for the test suite: installed from Debian's packages when missing and we are root.
system-deps:
	@bash scripts/ensure-system-deps

migrate: setup
	$(FLASK) db upgrade

demo: migrate
	$(FLASK) portal demo

run: demo
	@echo "== serving on http://$(HOST):$(PORT)/ (demo accounts: see README.md)"
	$(FLASK) run --host $(HOST) --port $(PORT) --no-reload

serve: migrate
	$(VENV)/bin/gunicorn --config gunicorn.conf.py --bind $(HOST):$(PORT) --workers $(WORKERS) wsgi:app

lint: setup
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: setup
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

test: setup system-deps lint
	$(PY) -m pytest $(PYTEST_ARGS)

bench: setup
	$(PY) -m bench

# Only the concurrency run (50 clients x 30 s filing reports) against a fresh database.
bench-concurrency: setup
	$(PY) -m bench.concurrency

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
