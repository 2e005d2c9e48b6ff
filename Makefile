# The two commands a new user types are `make demo` and `make test`; both set everything up.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
TEST_STACK := env $$(grep -v '^\#' tests/stack.env | xargs)

.PHONY: demo test bootstrap system-packages test-stack-down clean

demo: bootstrap
	$(BIN)/calipso demo

test: bootstrap
	$(BIN)/pytest

bootstrap: system-packages $(VENV)/.installed ui

system-packages:
	@scripts/install-system-packages.sh

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	touch $@

# The web UI: npm installs the lockfile's packages (Cytoscape.js, esbuild, axe-core), esbuild bundles
# ui/src into api/ui/static/dist (served by the API at /). Rebuilt only when a source or the lockfile changes.
UI_BUNDLE := api/ui/static/dist/app.js
.PHONY: ui
ui: $(UI_BUNDLE)

ui/node_modules/.installed: ui/package.json ui/package-lock.json
	@echo "npm: installing the web UI's packages (Cytoscape.js, esbuild, axe-core)"
	cd ui && npm ci --no-audit --no-fund --loglevel=error
	touch $@

$(UI_BUNDLE): ui/node_modules/.installed ui/build.mjs $(wildcard ui/src/*.js)
	cd ui && node build.mjs

# Stop the test stack (tests/conftest.py stops it too; this is for interrupted runs and CI).
test-stack-down:
	-$(TEST_STACK) $(BIN)/calipso stack down

clean: test-stack-down
	-$(BIN)/calipso stack down
	rm -rf $(VENV) var stack/neo4j/target
