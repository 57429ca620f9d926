# Flywheel: `make demo` shows the bot working against a local Discord emulator (no token);
# `make test` runs every check CI runs.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: test check lint typecheck pytest demo run clean

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev,postgres]'
	touch $(STAMP)

test: check pytest

check: lint typecheck

lint: $(STAMP)
	$(VENV)/bin/ruff check .

typecheck: $(STAMP)
	$(VENV)/bin/mypy --strict db bot/core bot/config bot/clock.py bot/services bot/scheduling.py \
		bot/outbox.py bot/metrics.py bot/web

pytest: $(STAMP)
	$(VENV)/bin/pytest

demo: $(STAMP)
	$(PY) -m bot demo

run: $(STAMP)
	$(PY) -m bot run

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache *.egg-info
