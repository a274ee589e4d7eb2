# The two commands a newcomer needs: `make chat` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: chat test install lint bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

chat: $(STAMP)
	$(BIN)/aws-quiz chat

test: $(STAMP)
	$(BIN)/aws-quiz knowledge check
	$(BIN)/pytest -q

lint: $(STAMP)
	$(BIN)/ruff check bot adapters tests bench
	$(BIN)/mypy bot adapters

bench: $(STAMP)
	$(BIN)/python bench/lookup_bench.py
	$(BIN)/python bench/lookup_quality.py
	$(BIN)/python bench/quiz_bench.py
	$(BIN)/python bench/roleplay_bench.py
	$(BIN)/python bench/roleplay_quality.py
	$(BIN)/python bench/slack_bench.py

clean:
	rm -rf $(VENV) data .pytest_cache
