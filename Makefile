# threadlog: `make demo` runs the whole product, `make test` the whole suite. Both install what
# they need (apt, mvn, pip) and start what they need (Kafka, PostgreSQL, the three processes).
SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help

VENV := .venv
BIN := $(CURDIR)/$(VENV)/bin
PYTHON ?= $(shell command -v python3.11 || command -v python3)
INGEST_URL = http://$${THREADLOG_INGEST_HOST:-127.0.0.1}:$${THREADLOG_INGEST_PORT:-8001}
QUERY_URL = http://$${THREADLOG_QUERY_HOST:-127.0.0.1}:$${THREADLOG_QUERY_PORT:-8002}
WEB_URL = http://$${THREADLOG_WEB_HOST:-127.0.0.1}:$${THREADLOG_WEB_PORT:-8004}

.PHONY: help venv up services demo test deploy-check unit integration lint format fuzz chaos bench bench-quick bench-catchup bench-import bench-read bench-push bench-rebuild down clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-14s %s\n", $$1, $$2}'

$(VENV)/.installed: pyproject.toml
	@deploy/bin/ensure-system
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), f"threadlog needs Python >= 3.11, found {sys.version}"'
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@$(BIN)/python -m pip install -q --disable-pip-version-check --upgrade pip
	@$(BIN)/python -m pip install -q --disable-pip-version-check -e '.[dev]'
	@touch $@

venv: $(VENV)/.installed ## create .venv with threadlog and its dependencies

up: venv ## start Kafka and PostgreSQL (or wait for yours), create topics and tables
	@deploy/bin/up
	@$(BIN)/threadlog init

services: up ## start the worker, the notifier, ingest, query and the pages (web) in the background
	@deploy/bin/proc start worker -- $(BIN)/threadlog worker
	@deploy/bin/proc start notifier -- $(BIN)/threadlog notifier
	@deploy/bin/proc start ingest --wait-http $(INGEST_URL)/readyz -- $(BIN)/threadlog ingest
	@deploy/bin/proc start query --wait-http $(QUERY_URL)/readyz -- $(BIN)/threadlog query
	@THREADLOG_WEB_DEMO_KEY_FILE=$${THREADLOG_WEB_DEMO_KEY_FILE-$(CURDIR)/.state/demo-key} \
		deploy/bin/proc start web --wait-http $(WEB_URL)/healthz -- $(BIN)/threadlog web

demo: services ## run everything and load the demo thread, then print it as served
	@$(BIN)/threadlog keys demo .state/demo-key
	@$(BIN)/threadlog keys demo --moderator .state/moderator-key
	@THREADLOG_API_KEY="$$(cat .state/demo-key)" $(BIN)/threadlog demo
	@echo "Writes need an API key. The demo's (scope produce; the pages' backend uses it) is in .state/demo-key:"
	@echo "  curl -s $(INGEST_URL)/v1/events -H \"Authorization: Bearer \$$(cat .state/demo-key)\" \\"
	@echo "    -H 'content-type: application/json' -d '{\"type\": \"CommentPosted\", \"data\": {...}}'"
	@echo "  Make your own: $(BIN)/threadlog keys create --name NAME --scope produce"
	@echo "In a browser:"
	@echo "  the live thread:        $(WEB_URL)/articles/2019-06-serbia-threatens-kosovo"
	@echo "  the moderation console: $(WEB_URL)/moderation   (key, scope moderate: cat .state/moderator-key)"
	@echo "  the widget, on any page: <script src=\"$(WEB_URL)/embed.js\" data-article-id=\"2019-06-serbia-threatens-kosovo\"></script>"

lint: venv ## ruff, mypy (strict) and the import contracts
	@$(BIN)/ruff check .
	@$(BIN)/ruff format --check .
	@$(BIN)/mypy
	@$(BIN)/lint-imports --no-cache

format: venv ## format the code
	@$(BIN)/ruff format .
	@$(BIN)/ruff check --fix .

unit: venv ## unit tests only (no servers needed)
	@$(BIN)/pytest tests/unit -q

integration: up ## the tests that need the servers: integration, pages, server fuzzing (-m integration)
	@deploy/bin/ensure-system --browser
	@$(BIN)/pytest -m integration -q

test: lint deploy-check up ## the whole suite on the real Kafka and PostgreSQL, the pages in headless Chromium, the deployment checks
	@deploy/bin/ensure-system --browser --contract
	@$(BIN)/pytest -q

deploy-check: venv ## helm lint, helm template and deploy/k8s through kubeconform -strict, the settings in step (no cluster)
	@deploy/bin/deploy-check

fuzz: up ## schemathesis on both APIs: 500 examples per endpoint, fresh seeds (`make test`: 25)
	@THREADLOG_FUZZ_EXAMPLES=$${THREADLOG_FUZZ_EXAMPLES:-500} THREADLOG_FUZZ_RANDOM=1 \
		$(BIN)/pytest tests/fuzz -q

chaos: up ## 20 random SIGKILLs of 3 workers over 200,000 events, then Kafka and PostgreSQL restarts under load; figures in .state/{chaos,faults}-report.json
	@THREADLOG_CHAOS_EVENTS=$${THREADLOG_CHAOS_EVENTS:-200000} \
		THREADLOG_CHAOS_KILLS=$${THREADLOG_CHAOS_KILLS:-20} \
		THREADLOG_FAULT_EVENTS=$${THREADLOG_FAULT_EVENTS:-20000} \
		$(BIN)/pytest tests/integration/test_chaos.py tests/integration/test_faults.py -q -s -p no:warnings

bench-catchup: up ## events/s the worker applies catching up on 100,000 CommentPosted
	@$(BIN)/python -m bench.catchup --events 100000

bench-import: up ## threadlog import of a generated 400 MB Disqus export: comments/s, CPU, peak RSS; then the worker applying it
	@$(BIN)/python -m bench.import_disqus --megabytes $${MEGABYTES:-400}

bench-read: up ## first-page latency of a 10,000-comment thread against a 100-comment one
	@$(BIN)/python -m bench.thread_read --big 10000 --small 100

bench-rebuild: up ## blue/green rebuild of 1,000,000 events: events/s, failed reads, lock times
	@$(BIN)/python -m bench.rebuild --events 1000000

# REPEAT=N: runs of each figure a target names (default 3, quick 2); the report quotes the median run.
BENCH_REPEAT = $(if $(REPEAT),--repeat $(REPEAT))

bench: up ## every scenario, fixed data, Isso beside us, target figures 3 times (REPEAT=N); writes bench/results/<date>.{json,md,png}
	@command -v wrk >/dev/null || (apt-get update -q >/dev/null && apt-get install -y -q wrk >/dev/null)
	@$(BIN)/python -m pip install -q --disable-pip-version-check -e '.[bench]'
	@$(BIN)/python -m bench.suite $(BENCH_REPEAT)

bench-quick: up ## the same scenarios on smaller data, target figures twice, in under 3 minutes (before/after a change)
	@command -v wrk >/dev/null || (apt-get update -q >/dev/null && apt-get install -y -q wrk >/dev/null)
	@$(BIN)/python -m bench.suite --quick $(BENCH_REPEAT)

bench-push: up ## post-to-push latency of live streams (1,000 posts) and streams one query process holds
	@$(BIN)/python -m bench.push_latency --posts 1000 --streams 2000

.PHONY: bench-limits bench-scaleout bench-soak
bench-limits: up ## the physical limit: PostgreSQL's COPY rate for the catch-up's rows, msgspec's decode rate
	@$(BIN)/python -m bench.limits --events 1000000

bench-scaleout: up ## 1, 2, 3 workers on one 1,000,000-event backlog; 1, 2 query processes at c32
	@command -v wrk >/dev/null || (apt-get update -q >/dev/null && apt-get install -y -q wrk >/dev/null)
	@$(BIN)/python -m bench.scaleout --events 1000000

bench-soak: up ## 30 minutes at 1,000 posts/s with readers: RSS, lag, freshness; bench/results/soak-*
	@$(BIN)/python -m bench.soak --minutes 30 --rate 1000

down: ## stop everything we started
	@deploy/bin/down

clean: down ## stop everything and delete the state (Kafka log, database, venv)
	rm -rf .state $(VENV)
