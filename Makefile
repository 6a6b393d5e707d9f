# The two commands a newcomer needs: `make demo` (start everything) and `make test` (run the suite).
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat requirements.txt requirements-dev.txt | cksum | cut -d' ' -f1)

.PHONY: demo test test-fast check-architecture lint install bench

install: $(STAMP)

$(STAMP): requirements.txt requirements-dev.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements-dev.txt
	rm -f $(VENV)/.installed-*
	touch $@

demo: install
	bin/demo

test: install check-architecture
	bin/check-browser
	$(BIN)/pytest $(PYTEST_ARGS)

# Everything but the browser and slow tests, in parallel: the quick loop while working.
test-fast: install
	$(BIN)/pytest -n auto -m "not browser and not slow" $(PYTEST_ARGS)

# The mirror is a leaf, product code never imports the stand-ins, and no import cycle.
check-architecture: install
	$(BIN)/python bin/check-architecture

lint: install
	$(BIN)/ruff check .

bench: install
	$(BIN)/python bench/deliver.py $(BENCH_ARGS)
	$(BIN)/python bench/production.py
	$(BIN)/python bench/bill_page.py
	$(BIN)/python bench/import_memory.py
