# The two commands of the quick start: `make demo` and `make test`.
# Both create .venv on first use; nothing needs to be installed by hand but Python >= 3.11
# (and Node.js >= 18 for the Neo4j Cypher lint in the tests).
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo test setup bench lint clean

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "tracegraph needs Python >= 3.11"'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test,bench]'
	@touch $(STAMP)

setup: $(STAMP)

demo: $(STAMP)
	$(BIN)/tracegraph demo

test: $(STAMP)
	@if command -v node >/dev/null 2>&1; then \
		cd tools/cypherlint && npm ci --no-audit --no-fund --loglevel=error; \
	else echo "node not found: the static Neo4j Cypher lint will be skipped"; fi
	$(BIN)/ruff check .
	$(BIN)/lint-imports
	$(BIN)/mypy
	$(BIN)/python -m pytest -q --junitxml=test-results/junit.xml

bench: $(STAMP)
	$(BIN)/python -m perf run --size S

clean:
	rm -rf $(VENV) .tracegraph
