# The two commands a newcomer needs: `make chat` and `make test`.
#
# They need Python 3.12 or newer (the Microsoft 365 Agents SDK's Teams adapter). The interpreter
# is found without help: $(PYTHON) when given, else python3.13, python3.12, a pyenv-installed
# 3.12 or 3.13 (~/.pyenv/versions), else python3 when it is new enough. A .venv made with an
# older Python is replaced.
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PYENV_ROOT ?= $(HOME)/.pyenv
NEW_ENOUGH := -c 'import sys; sys.exit(sys.version_info < (3, 12))'
FIND_PYTHON := for c in $(PYTHON) python3.13 python3.12 \
	  $$(ls -d $(PYENV_ROOT)/versions/3.12* 2>/dev/null | sort -rV) \
	  $$(ls -d $(PYENV_ROOT)/versions/3.13* 2>/dev/null | sort -rV) python3; do \
	  case "$$c" in /*) c="$$c/bin/python";; esac; \
	  if "$$c" $(NEW_ENOUGH) >/dev/null 2>&1; then command -v "$$c"; exit 0; fi; \
	done; exit 1

.PHONY: chat test install lint bench clean venv python

python:
	@($(FIND_PYTHON)) || { echo "no Python 3.12 or newer found" >&2; exit 1; }

venv:
	@if [ -x $(BIN)/python ] && ! $(BIN)/python $(NEW_ENOUGH) >/dev/null 2>&1; then \
	  echo "$(VENV) was made with $$($(BIN)/python --version 2>&1); replacing it (3.12+ needed)"; \
	  rm -rf $(VENV); \
	fi
	@if [ ! -x $(BIN)/python ]; then \
	  py=$$($(FIND_PYTHON)) || { \
	    echo "No Python 3.12 or newer found (tried python3.13, python3.12, pyenv's 3.12/3.13," >&2; \
	    echo "python3 is $$(python3 --version 2>&1))." >&2; \
	    echo "Install one: apt-get install python3.12 python3.12-venv, or pyenv install 3.12," >&2; \
	    echo "or run make PYTHON=/path/to/python3.12 ..." >&2; exit 1; }; \
	  echo "Making $(VENV) with $$py ($$($$py --version 2>&1))"; \
	  "$$py" -m venv $(VENV); \
	else \
	  echo "Using $(VENV) ($$($(BIN)/python --version 2>&1))"; \
	fi

$(STAMP): pyproject.toml | venv
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: venv $(STAMP)

chat: venv $(STAMP)
	$(BIN)/aws-quiz chat

test: venv $(STAMP)
	$(BIN)/aws-quiz knowledge check
	$(BIN)/pytest -q

lint: venv $(STAMP)
	$(BIN)/ruff check bot adapters tests bench
	$(BIN)/mypy bot adapters

bench: venv $(STAMP)
	$(BIN)/python bench/lookup_bench.py
	$(BIN)/python bench/lookup_quality.py
	$(BIN)/python bench/quiz_bench.py
	$(BIN)/python bench/roleplay_bench.py
	$(BIN)/python bench/roleplay_quality.py
	$(BIN)/python bench/slack_bench.py

clean:
	rm -rf $(VENV) data .pytest_cache
