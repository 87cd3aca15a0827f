# Two commands do all the set-up on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export NEXGEN_HOME ?= $(CURDIR)/data
export DAGSTER_HOME ?= $(NEXGEN_HOME)/dagster_home

.PHONY: demo test dev lint java system-deps test-deps

demo: $(STAMP)
	@rm -rf $(NEXGEN_HOME)/incoming/* $(NEXGEN_HOME)/truth $(NEXGEN_HOME)/lake $(NEXGEN_HOME)/warehouse $(NEXGEN_HOME)/models $(NEXGEN_HOME)/exports $(DAGSTER_HOME)
	$(BIN)/nexgen generate --home $(NEXGEN_HOME)
	$(BIN)/nexgen run --summary

test: $(STAMP) test-deps
	$(BIN)/python -m pytest -q -n 2 --dist loadgroup --durations=15

dev: $(STAMP)
	$(BIN)/nexgen dev

lint: $(STAMP)
	$(BIN)/ruff check nexgen_assets nexgen_assets_tests bench

java:
	@command -v java >/dev/null 2>&1 || { echo "Java 17 or newer is required by Spark: install a JDK (e.g. apt-get install -y openjdk-17-jre-headless)"; exit 1; }
	@v=$$(java -version 2>&1 | awk -F'"' '/version/ {split($$2, a, "."); print (a[1] == "1" ? a[2] : a[1])}'); \
	  [ "$$v" -ge 17 ] 2>/dev/null || { echo "Java 17 or newer is required by Spark; found Java $$v"; exit 1; }

# The SQL Server driver (pyodbc) needs the unixODBC library; FreeTDS gives it a driver.
system-deps:
	@if ! ldconfig -p 2>/dev/null | grep -q libodbc.so.2; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    apt-get update -qq && apt-get install -y -qq unixodbc tdsodbc >/dev/null; \
	  else echo "unixODBC is missing: install it (Debian: sudo apt-get install unixodbc tdsodbc)"; exit 1; fi; \
	fi

# The dashboard test renders exports/dashboard.html in headless Chromium.
test-deps:
	@if ! command -v chromium >/dev/null; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    apt-get update -qq && apt-get install -y -qq chromium >/dev/null; \
	  else echo "chromium is missing: install it (Debian: sudo apt-get install chromium)"; exit 1; fi; \
	fi

$(STAMP): pyproject.toml | java system-deps
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[dev,bench]"
	@touch $(STAMP)
