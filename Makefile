# The two setup commands are `make site` and `make test`; both create .venv and install first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
NODE_STAMP := node_modules/.installed
PYTEST_ARGS ?=

.PHONY: site test serve validate bench audit lint clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

# npm devDependencies of the browser tests and the audit (axe-core, vnu-jar, lighthouse); no
# install scripts (vnu-jar's would fetch a JRE: the system Java is used). Without npm the
# browser tests say so (and fail under CI).
$(NODE_STAMP): package.json $(wildcard package-lock.json)
	@if ! command -v npm >/dev/null 2>&1; then \
	  echo "npm not found: the browser tests need axe-core and vnu-jar from npm" >&2; \
	elif [ -f package-lock.json ]; then \
	  npm ci --ignore-scripts --no-audit --no-fund --loglevel=error && touch $@; \
	else \
	  npm install --ignore-scripts --no-audit --no-fund --loglevel=error && touch $@; \
	fi

site: $(STAMP)
	$(BIN)/starmark build

serve: $(STAMP)
	$(BIN)/starmark serve

validate: $(STAMP)
	$(BIN)/starmark validate

test: $(STAMP) $(NODE_STAMP)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: $(STAMP)
	$(BIN)/ruff check generator tests
	$(BIN)/mypy generator

bench: $(STAMP)
	$(BIN)/python bench/run.py $(BENCH_ARGS)

# Lighthouse 12 (mobile, default throttling) on a certificate page served gzipped: the four
# scores, LCP and bytes transferred. AUDIT_ARGS="--runs 3" for a median.
audit: $(STAMP) $(NODE_STAMP)
	$(BIN)/python bench/audit.py $(AUDIT_ARGS)

clean:
	rm -rf site .starmark-cache tests/output
